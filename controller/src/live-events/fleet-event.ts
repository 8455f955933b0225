/** What the dashboard sees change live. Each names its receiver; the hub adds scope. */
export type FleetEvent =
  | { type: 'receiver.online'; receiverId: string; online: boolean; at: string }
  | { type: 'delivery.state'; receiverId: string; occurrenceId: string; state: string; at: string }
  | { type: 'delivery.acknowledged'; receiverId: string; commandId: string; deliveries: number; at: string }
  | { type: 'receiver.fault'; receiverId: string; code: string; state: 'raised' | 'cleared'; at: string };
