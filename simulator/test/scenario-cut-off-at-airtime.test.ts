import { scenarioHolds } from './support/scenario-check.js';

scenarioHolds('cut-off-at-airtime');
