// The import history (GET /v1/imports): past imports newest first with their counts, each linked
// to its report; and the way to the usage import.
import { moment } from "../../common/i18n";
import { href } from "../router";
import { api, canWrite, session } from "../session";
import { t } from "../strings";
import { Badge, ListCard, usePaged } from "../ui";
import type { ImportPage } from "../../common/types";


export function ImportHistory() {
  const paged = usePaged((cursor) => api<ImportPage>(`/v1/imports?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`));
  return (
    <div class="stack">
      {canWrite(session()) && (
        <div class="card row spread">
          <span>{t("usageIntro")}</span>
          <a class="button" href={href("usage")} data-testid="open-usage">
            {t("nav_usage")}
          </a>
        </div>
      )}
      <ListCard title={t("importHistory")} hint={t("importHistoryIntro")} cardTestid="import-history" load={paged} testid="import-history-table" cols={[t("importedAt"), t("rowsTotal"), t("rowsCreated"), t("rowsUpdated"), t("rowsUnchanged"), t("rowsFailed"), t("viewReport")]}>
        {(i) => (
          <tr key={i.import_id} data-testid="import-history-row">
            <td class="nowrap">
              {moment(i.created_at)} <Badge status={i.status} />
            </td>
            <td class="num">{i.total}</td>
            <td class="num">{i.created}</td>
            <td class="num">{i.updated}</td>
            <td class="num">{i.unchanged}</td>
            <td class="num">{i.failed}</td>
            <td>
              <a href={href("imports", { id: i.import_id })} data-testid="import-report-link">
                {t("viewReport")}
              </a>
            </td>
          </tr>
        )}
      </ListCard>
    </div>
  );
}
