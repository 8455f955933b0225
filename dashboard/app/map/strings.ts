import { strings } from '../i18n/strings.ts';

export const mapStrings = strings(
  {
    mapLabel: 'Bản đồ khu vực và loa',
    noTiles: 'Không có bản đồ nền: chỉ vẽ ranh giới khu vực và loa',
    legend: 'Chú giải',
  },
  {
    mapLabel: 'Map of areas and receivers',
    noTiles: 'No base map: area outlines and receivers only',
    legend: 'Legend',
  },
);
