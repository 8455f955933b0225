import { useCallback, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { loadAreas } from '../api/areas.ts';
import { api } from '../api/client.ts';
import { errorMessage, must } from '../api/problem.ts';
import { useLoad } from '../api/use-load.ts';
import { Forbidden } from '../shell/not-found.tsx';
import { areasWith, hasRole, useMe } from '../shell/session.tsx';
import { LoadStatus } from '../shell/status.tsx';
import type { Content, ContentCategory, LanguageCode } from './api-types.ts';
import { areaLabel, schedulableAreas } from './areas.ts';
import { formatDuration, languageName } from './labels.ts';
import { CATEGORIES, categoryLabel } from './schedule-options.ts';
import { UnsavedGuard } from './unsaved-guard.tsx';
import { VariantEditor, type VariantValue } from './variant-editor.tsx';
import './schedule.css';

/** Create an announcement: a title, its owner area, and a variant per language of that area. */
export function NewAnnouncement() {
  const me = useMe();
  if (!hasRole(me, 'official', 'emergency')) return <Forbidden />;
  return <NewAnnouncementPage />;
}

function NewAnnouncementPage() {
  const { t } = useTranslation('schedule');
  const me = useMe();
  const areas = useLoad(() => loadAreas(), []);
  const owners = useMemo(() => (areas.data ? schedulableAreas(areas.data, me) : []), [areas.data, me]);
  const [title, setTitle] = useState('');
  const [category, setCategory] = useState<ContentCategory>('announcement');
  const [ownerCode, setOwnerCode] = useState<string>();
  const owner =
    owners.find((a) => a.code === ownerCode) ??
    owners.find((a) => areasWith(me, 'official', 'emergency').includes(a.code)) ??
    owners[0];
  const [variants, setVariants] = useState<Partial<Record<LanguageCode, VariantValue>>>({});
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string>();
  const [saved, setSaved] = useState<Content | null>(null);
  const [round, setRound] = useState(0);

  const onVariant = useCallback(
    (language: LanguageCode, value: VariantValue) => setVariants((all) => ({ ...all, [language]: value })),
    [],
  );
  const languages = owner?.languages ?? [];
  const given = languages.filter((l) => {
    const v = variants[l];
    return v && v.kind !== 'none';
  });
  const busy = languages.filter((l) => {
    const v = variants[l];
    return v?.kind === 'audio' && v.busy;
  });
  const missing = languages.filter((l) => !given.includes(l));

  const save = async () => {
    setError(undefined);
    if (!owner) return;
    if (!title.trim()) return setError(t('titleNeeded'));
    if (busy.length > 0)
      return setError(t('audioStillComing', { languages: busy.map((l) => languageName(t, l)).join(', ') }));
    if (given.length === 0) return setError(t('variantNeeded'));
    setSaving(true);
    try {
      const body = {
        title: title.trim(),
        category,
        ownerArea: owner.code,
        variants: given.map((language) => {
          const v = variants[language];
          return v?.kind === 'text'
            ? { language, text: v.text }
            : { language, assetSha256: (v as { sha256: string }).sha256 };
        }),
      };
      setSaved(await must(api.POST('/content', { body })));
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setSaving(false);
    }
  };
  const again = () => {
    setSaved(null);
    setTitle('');
    setVariants({});
    setRound((r) => r + 1);
  };

  if (saved)
    return (
      <section className="announcement-saved">
        <h1>{t('announcementSaved')}</h1>
        <p role="status" className="ok">
          {t('announcementSavedDetail', { title: saved.title })}
        </p>
        <ul>
          {saved.variants.map((v) => (
            <li key={v.language}>
              {languageName(t, v.language)}:{' '}
              {v.asset
                ? t('variantAudio', { duration: formatDuration(v.asset.durationMs) })
                : v.kind === 'text'
                  ? t('variantTextPending')
                  : t('variantNoAudio')}
            </li>
          ))}
        </ul>
        <p>
          <Link className="button-link primary" to={`/schedule/new?content=${saved.id}`}>
            {t('scheduleIt')}
          </Link>{' '}
          <button type="button" onClick={again}>
            {t('createAnother')}
          </button>
        </p>
      </section>
    );

  return (
    <section className="new-announcement">
      <h1>{t('newAnnouncementTitle')}</h1>
      <LoadStatus loaded={areas} />
      {areas.data && owners.length === 0 && <p>{t('noAreas')}</p>}
      {owner && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
          key={round}
        >
          <UnsavedGuard dirty={(title.trim() !== '' || given.length > 0 || busy.length > 0) && !saving} />
          <label>
            {t('announcementTitle')}
            <input value={title} maxLength={200} required onChange={(e) => setTitle(e.target.value)} />
          </label>
          <div className="form-row">
            <label>
              {t('ownerArea')}
              <select value={owner.code} onChange={(e) => setOwnerCode(e.target.value)}>
                {owners.map((a) => (
                  <option key={a.code} value={a.code}>
                    {areaLabel(a)}
                  </option>
                ))}
              </select>
            </label>
            <label>
              {t('category')}
              <select value={category} onChange={(e) => setCategory(e.target.value as ContentCategory)}>
                {CATEGORIES.map((c) => (
                  <option key={c} value={c}>
                    {categoryLabel(t, c)}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <p className="muted">
            {t('languagesOfArea', {
              area: owner.name,
              languages: languages.map((l) => languageName(t, l)).join(', '),
            })}
          </p>
          {languages.map((language, i) => (
            <VariantEditor key={language} language={language} position={i + 1} onChange={onVariant} />
          ))}
          {missing.length > 0 && given.length > 0 && (
            <p className="warn">
              {t('languagesMissing', { languages: missing.map((l) => languageName(t, l)).join(', ') })}
            </p>
          )}
          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" className="primary" disabled={saving}>
            {saving ? t('saving') : t('saveAnnouncement')}
          </button>
        </form>
      )}
    </section>
  );
}
