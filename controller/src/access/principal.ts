import type { Role } from '../generated/prisma/client.js';

export interface Grant {
  role: Role;
  areaId: string;
  areaCode: string;
  /** Materialised path of the granted area ("/10/082/"); covers everything below it. */
  areaPath: string;
}

/** Who is calling: a signed-in user, or a machine acting with its user's grants. */
export interface Principal {
  userId: string;
  username: string;
  via: 'session' | 'token';
  grants: Grant[];
}
