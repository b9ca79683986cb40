/** The inventory parser lives in src/common (shared by the server, the core's import and the console). */
export * from '../../common/inventory.js';
