/**
 * The keywords the simulated sshd knows, by the kind of value each takes, as `sshd -t` checks them: an unknown
 * keyword is a bad configuration option, a deprecated one is accepted and ignored, the rest must carry a value of
 * their kind. Kept apart from the reading rules (sshd-config-files.ts) and the meaning (sshd-config.ts).
 */
export type PermitRootLogin = 'yes' | 'no' | 'prohibit-password' | 'without-password' | 'forced-commands-only';

export type ValueKind = 'flag' | 'integer' | 'port' | 'permitRootLogin' | 'text' | 'include' | 'match' | 'deprecated';

export const KEYWORD_KINDS: Record<string, ValueKind> = {};
const declare = (kind: ValueKind, names: string[]) => names.forEach((n) => (KEYWORD_KINDS[n.toLowerCase()] = kind));
declare('flag', [
  'PasswordAuthentication',
  'PubkeyAuthentication',
  'KbdInteractiveAuthentication',
  'ChallengeResponseAuthentication',
  'UsePAM',
  'X11Forwarding',
  'X11UseLocalhost',
  'PrintMotd',
  'PrintLastLog',
  'PermitEmptyPasswords',
  'StrictModes',
  'UseDNS',
  'TCPKeepAlive',
  'HostbasedAuthentication',
  'HostbasedUsesNameFromPacketOnly',
  'IgnoreRhosts',
  'IgnoreUserKnownHosts',
  'GSSAPIAuthentication',
  'GSSAPICleanupCredentials',
  'GSSAPIStrictAcceptorCheck',
  'KerberosAuthentication',
  'KerberosOrLocalPasswd',
  'KerberosTicketCleanup',
  'PermitTTY',
  'PermitUserRC',
  'ExposeAuthInfo',
  'DisableForwarding',
  'AllowAgentForwarding',
  'StreamLocalBindUnlink',
  'DebianBanner',
]);
declare('integer', ['MaxAuthTries', 'MaxSessions', 'ClientAliveCountMax', 'X11DisplayOffset', 'RequiredRSASize']);
declare('port', ['Port']);
declare('permitRootLogin', ['PermitRootLogin']);
declare('include', ['Include']);
declare('match', ['Match']);
declare('deprecated', [
  'UsePrivilegeSeparation',
  'Protocol',
  'RSAAuthentication',
  'RhostsRSAAuthentication',
  'UseLogin',
  'KeyRegenerationInterval',
  'ServerKeyBits',
]);
declare('text', [
  'AcceptEnv',
  'AddressFamily',
  'AllowGroups',
  'AllowStreamLocalForwarding',
  'AllowTcpForwarding',
  'AllowUsers',
  'AuthenticationMethods',
  'AuthorizedKeysCommand',
  'AuthorizedKeysCommandUser',
  'AuthorizedKeysFile',
  'AuthorizedPrincipalsCommand',
  'AuthorizedPrincipalsCommandUser',
  'AuthorizedPrincipalsFile',
  'Banner',
  'CASignatureAlgorithms',
  'ChannelTimeout',
  'ChrootDirectory',
  'Ciphers',
  'ClientAliveInterval',
  'Compression',
  'DenyGroups',
  'DenyUsers',
  'FingerprintHash',
  'ForceCommand',
  'GatewayPorts',
  'HostbasedAcceptedAlgorithms',
  'HostCertificate',
  'HostKey',
  'HostKeyAgent',
  'HostKeyAlgorithms',
  'IPQoS',
  'KexAlgorithms',
  'ListenAddress',
  'LoginGraceTime',
  'LogLevel',
  'LogVerbose',
  'MACs',
  'MaxStartups',
  'ModuliFile',
  'PermitListen',
  'PermitOpen',
  'PermitTunnel',
  'PermitUserEnvironment',
  'PerSourceMaxStartups',
  'PerSourceNetBlockSize',
  'PidFile',
  'PubkeyAcceptedAlgorithms',
  'PubkeyAcceptedKeyTypes',
  'PubkeyAuthOptions',
  'RDomain',
  'RekeyLimit',
  'RevokedKeys',
  'SecurityKeyProvider',
  'SetEnv',
  'StreamLocalBindMask',
  'Subsystem',
  'SyslogFacility',
  'TrustedUserCAKeys',
  'UnusedConnectionTimeout',
  'VersionAddendum',
  'XAuthLocation',
]);

const PERMIT_ROOT_LOGIN_VALUES: readonly PermitRootLogin[] = [
  'yes',
  'no',
  'prohibit-password',
  'without-password',
  'forced-commands-only',
];

export function isFlag(value: string): value is 'yes' | 'no' {
  return value === 'yes' || value === 'no';
}

export function isPermitRootLogin(value: string): value is PermitRootLogin {
  return (PERMIT_ROOT_LOGIN_VALUES as readonly string[]).includes(value);
}
