// Public API of @keyvm/cli: the command line as a function (for tests and embedders).
export { CliError, ExitCode } from './errors.js';
export { main, VERSION } from './main.js';
export { RUN_DEFAULTS } from './run.js';
