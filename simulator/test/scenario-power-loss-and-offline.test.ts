import { scenarioHolds } from './support/scenario-check.js';

scenarioHolds('power-loss-and-offline');
