/** LiveAccess over SSH (ssh2): how keyfleet reaches a running machine, simulated or real, agentless. */
import type { LiveAccess } from '../../core/ports.js';
import { openSession, probeLogin, tryLogin } from './ssh-session.js';

export const sshLiveAccess: LiveAccess = { openSession, probeLogin, tryLogin };
