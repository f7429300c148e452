// The language switch, labelled in both languages so either reader can find it.
import { locale, setLocale, type Locale } from "../common/i18n";

export function LanguageSwitch() {
  return (
    <div class="lang">
      <label for="lang-select" class="lang-label">
        语言 / Language
      </label>
      <select
        id="lang-select"
        data-testid="lang-switch"
        value={locale()}
        onChange={(e) => setLocale((e.currentTarget as HTMLSelectElement).value as Locale)}
      >
        <option value="zh-CN" lang="zh-CN">
          中文
        </option>
        <option value="en" lang="en">
          English
        </option>
      </select>
    </div>
  );
}
