import { CoreError } from './errors.js';

/** Region is where key pairs and instances live; names are unique per account and region. */
export interface Region {
  id: string;
  localName: string;
}

export const DEFAULT_REGIONS: Region[] = [
  { id: 'cn-hangzhou', localName: 'China (Hangzhou)' },
  { id: 'cn-shanghai', localName: 'China (Shanghai)' },
  { id: 'ap-southeast-1', localName: 'Singapore' },
];

export function requireRegion(regions: readonly Region[], regionId: string | undefined): Region {
  if (!regionId) throw new CoreError('Input.Missing', 'The region is required.', { parameter: 'RegionId' });
  const region = regions.find((r) => r.id === regionId);
  if (!region) throw new CoreError('Region.NotFound', `The region '${regionId}' does not exist.`, { regionId });
  return region;
}
