import type { Area } from '../api/areas.ts';
import type { Json } from '../api/json.ts';
import type { paths } from '../api/schema';

/** The answers and bodies these pages use, named once (from the generated OpenAPI types). */
export type { Area };
export type LanguageCode = Area['languages'][number];
export type TimelineItem = Json<paths['/timeline']['get']['responses'][200]>['items'][number];
export type ScheduleView = Json<paths['/schedules/{id}']['get']['responses'][200]>;
export type ScheduleInput = NonNullable<paths['/schedules']['post']['requestBody']>['content']['application/json'];
export type CheckResult = Json<paths['/schedules/check']['post']['responses'][200]>;
export type Conflict = CheckResult['conflicts'][number];
export type Delivery = Json<paths['/deliveries']['get']['responses'][200]>['items'][number];
export type DeliveryState = Delivery['state'];
export type ContentSummary = Json<paths['/content']['get']['responses'][200]>['items'][number];
export type Content = Json<paths['/content/{id}']['get']['responses'][200]>;
export type ContentCategory = Content['category'];
export type AudioJob = Json<paths['/audio-jobs/{id}']['get']['responses'][200]>;
export type Receiver = Json<paths['/receivers']['get']['responses'][200]>['items'][number];
export type Priority = ScheduleInput['priority'];
