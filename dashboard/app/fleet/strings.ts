import { strings } from '../i18n/strings.ts';

export const fleetStrings = strings({}, {});
