import { scenarioHolds } from './support/scenario-check.js';

scenarioHolds('forged-commands');
