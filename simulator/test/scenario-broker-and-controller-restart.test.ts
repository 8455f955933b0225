import { scenarioHolds } from './support/scenario-check.js';

scenarioHolds('broker-and-controller-restart');
