export { startSnowflakeEmulator, type SnowflakeEmulator, type SnowflakeEmulatorOptions, type EmulatorQuery, type EmulatorUser } from './emulator.js';
