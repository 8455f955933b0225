import { scenarioHolds } from './support/scenario-check.js';

scenarioHolds('alert-issue-and-cancel');
