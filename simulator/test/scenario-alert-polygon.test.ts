import { scenarioHolds } from './support/scenario-check.js';

scenarioHolds('alert-polygon');
