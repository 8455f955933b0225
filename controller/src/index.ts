// What other packages (the simulator's harness) use of the controller besides running it.

export { type BrokerAccount, brokerAccounts, renderAclFile, renderPasswordFile } from './broker/broker-config.js';
export { hashMosquittoPassword } from './broker/mosquitto-password.js';
export { issueReceiverCredentials } from './broker/receiver-credentials.js';
export * from './config.js';
export { createDatabase, type Database } from './database/client.js';
export { createFreshDatabase, type FreshDatabase } from './database/fresh-database.js';
export { type LoadProvince, type LoadProvinceOptions, seedLoadProvince } from './demo/load-province.js';
export { seedDemoProvince } from './demo/seed.js';
