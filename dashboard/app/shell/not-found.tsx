import { useTranslation } from 'react-i18next';

export function NotFound() {
  const { t } = useTranslation();
  return <p>{t('notFound')}</p>;
}

export function Forbidden() {
  const { t } = useTranslation();
  return (
    <p className="error" role="alert">
      {t('forbidden')}
    </p>
  );
}
