import type { RouteObject } from 'react-router';
import { NewAnnouncement } from './new-announcement.tsx';
import { ProofOfPlay } from './proof-of-play.tsx';
import { ScheduleForm } from './schedule-form.tsx';
import { WeekCalendar } from './week-calendar.tsx';

/** Commune officials' pages: the week, a new announcement, scheduling it, and what played. */
export const scheduleRoutes: RouteObject[] = [
  { path: 'schedule', element: <WeekCalendar /> },
  { path: 'schedule/new', element: <ScheduleForm /> },
  { path: 'announcements/new', element: <NewAnnouncement /> },
  { path: 'proof-of-play', element: <ProofOfPlay /> },
];
