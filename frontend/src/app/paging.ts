/** Messages per history page (the boot's prefetch asks for the same page). */
export const PAGE_SIZE = 50;
