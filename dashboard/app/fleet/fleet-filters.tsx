import { type ReactNode, useId } from 'react';
import { useTranslation } from 'react-i18next';
import type { FleetFilter } from './fleet-filter.ts';
import type { Area } from './receiver-view.ts';

const INDENT: Record<Area['level'], string> = {
  province: '',
  district: '\u00a0\u00a0',
  commune: '\u00a0\u00a0\u00a0\u00a0',
  village: '',
};

/**
 * A label beside (not around) its control: a select or text box inside its label would
 * add its current value to its accessible name ("Khu vực Tất cả khu vực").
 */
function Field({ label, children }: { label: string; children: (id: string) => ReactNode }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children(id)}
    </div>
  );
}

export interface FleetFiltersProps {
  filter: FleetFilter;
  onChange: (filter: FleetFilter) => void;
  areas: ReadonlyMap<string, Area>;
  versions: readonly string[];
}

/** The list's filters; every change applies at once (no submit), the list and map follow. */
export function FleetFilters({ filter, onChange, areas, versions }: FleetFiltersProps) {
  const { t } = useTranslation('fleet');
  const set = (change: Partial<FleetFilter>) => onChange({ ...filter, ...change });
  // Villages are found by the search box; the select holds the levels above them.
  const choices = [...areas.values()].filter((a) => a.level !== 'village');
  return (
    <fieldset className="fleet-filters">
      <legend>{t('filtersLabel')}</legend>
      <Field label={t('filterText')}>
        {(id) => <input id={id} type="search" value={filter.text} onChange={(e) => set({ text: e.target.value })} />}
      </Field>
      <Field label={t('filterArea')}>
        {(id) => (
          <select id={id} value={filter.area} onChange={(e) => set({ area: e.target.value })}>
            <option value="">{t('filterAreaAll')}</option>
            {choices.map((a) => (
              <option key={a.code} value={a.code}>
                {`${INDENT[a.level]}${a.name} (${a.code})`}
              </option>
            ))}
            {filter.area && !areas.has(filter.area) && <option value={filter.area}>{filter.area}</option>}
          </select>
        )}
      </Field>
      <Field label={t('filterState')}>
        {(id) => (
          <select id={id} value={filter.state} onChange={(e) => set({ state: e.target.value as FleetFilter['state'] })}>
            <option value="">{t('filterStateAll')}</option>
            <option value="online">{t('filterStateOnline')}</option>
            <option value="offline">{t('filterStateOffline')}</option>
          </select>
        )}
      </Field>
      <Field label={t('filterVersion')}>
        {(id) => (
          <select id={id} value={filter.version} onChange={(e) => set({ version: e.target.value })}>
            <option value="">{t('filterVersionAll')}</option>
            {versions.map((v) => (
              <option key={v} value={v}>
                {v}
              </option>
            ))}
            {filter.version && !versions.includes(filter.version) && (
              <option value={filter.version}>{filter.version}</option>
            )}
          </select>
        )}
      </Field>
      <div className="fleet-checks">
        <label>
          <input type="checkbox" checked={filter.faults} onChange={(e) => set({ faults: e.target.checked })} />{' '}
          {t('filterFaults')}
        </label>
        <label>
          <input type="checkbox" checked={filter.weak} onChange={(e) => set({ weak: e.target.checked })} />{' '}
          {t('filterWeak')}
        </label>
        <label>
          <input type="checkbox" checked={filter.lowBattery} onChange={(e) => set({ lowBattery: e.target.checked })} />{' '}
          {t('filterBattery')}
        </label>
      </div>
      <button
        type="button"
        onClick={() =>
          onChange({ area: '', state: '', faults: false, weak: false, lowBattery: false, version: '', text: '' })
        }
      >
        {t('clearFilters')}
      </button>
    </fieldset>
  );
}
