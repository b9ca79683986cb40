/**
 * DescribeRegions and DescribeImages (API.md §3.10). The catalog is the core's: its regions, and the images of
 * the compute backend (at least one Linux and one Windows image in the simulated fleet). Both read it through the
 * core's catalog use cases, which check ecs:DescribeRegions (region:Describe) and ecs:DescribeImages (image:Describe).
 */
import { requireRegion } from '../../../core/region.js';
import { ecsErrors } from '../errors.js';
import { imageView, regionView } from '../views.js';
import type { ActionHandler } from './context.js';

const ACCEPT_LANGUAGES = ['zh-CN', 'en-US', 'ja'] as const;
const RESOURCE_TYPES = ['instance', 'disk', 'reservedinstance', 'scu'] as const;
const REGION_CHARGE_TYPES = ['PrePaid', 'PostPaid', 'SpotWithPriceLimit', 'SpotAsPriceGo'] as const;
const OS_TYPES = ['linux', 'windows'] as const;
const IMAGE_PAGE = { min: 1, max: 100 };
const PAGE_NUMBER = { min: 1, max: 1_000_000_000 };

export const catalogActions = {
  /** Every configured region, all served at the endpoint the client used. LocalName is the configured name. */
  DescribeRegions: async ({ core, caller, params, endpoint }) => {
    params.oneOf('AcceptLanguage', ACCEPT_LANGUAGES, ecsErrors.acceptLanguageNotFound);
    params.oneOf('ResourceType', RESOURCE_TYPES, ecsErrors.resourceTypeNotFound);
    params.oneOf('InstanceChargeType', REGION_CHARGE_TYPES, ecsErrors.regionsChargeTypeInvalid);
    const regions = await core.catalog.regions(caller);
    return { Regions: { Region: regions.map((r) => regionView(r, endpoint)) } };
  },

  /** Filters: ImageId (comma-separated IDs, as Alibaba takes them) and OSType; PageSize up to 100. */
  DescribeImages: async ({ core, caller, params }) => {
    const region = requireRegion(core.regions, params.required('RegionId'));
    const wanted = params
      .optional('ImageId')
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const osType = params.oneOf('OSType', OS_TYPES, () => ecsErrors.invalidParameter('OSType'));
    const pageNumber = params.integer('PageNumber', PAGE_NUMBER, 1);
    const pageSize = params.integer('PageSize', IMAGE_PAGE, 10);
    const images = (await core.catalog.images(caller, region.id)).filter(
      (img) => (!wanted || wanted.includes(img.id)) && (!osType || img.osType === osType),
    );
    const start = (pageNumber - 1) * pageSize;
    return {
      RegionId: region.id,
      PageNumber: pageNumber,
      PageSize: pageSize,
      TotalCount: images.length,
      Images: { Image: images.slice(start, start + pageSize).map(imageView) },
    };
  },
} satisfies Record<string, ActionHandler>;
