import { scenarioHolds } from './support/scenario-check.js';

scenarioHolds('announcement-then-emergency');
