// The import history (GET /v1/imports): past imports newest first with their counts, each linked
// to its report; and the way to the usage import.
import { moment } from "../../common/i18n";
import { href } from "../router";
import { api, canWrite, session } from "../session";
import { ts } from "../strings_screens";
import { Badge, ErrorAlert, Loading, Pager, Table, usePaged } from "../ui";
import type { ImportPage } from "../../common/types";


export function ImportHistory() {
  const paged = usePaged((cursor) => api<ImportPage>(`/v1/imports?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`));
  const items = paged.data?.items ?? [];
  return (
    <div class="stack">
      {canWrite(session()) && (
        <div class="card row spread">
          <span>{ts("usageIntro")}</span>
          <a class="button" href={href("usage")} data-testid="open-usage">
            {ts("nav_usage")}
          </a>
        </div>
      )}
      <div class="card stack" data-testid="import-history">
        <h2>{ts("importHistory")}</h2>
        <p class="hint">{ts("importHistoryIntro")}</p>
        <ErrorAlert error={paged.error} />
        <Loading show={paged.loading && !paged.data} />
        {paged.data && (
          <Table
            caption={ts("importHistory")}
            testid="import-history-table"
            empty={items.length === 0}
            head={
              <tr>
                <th scope="col">{ts("importedAt")}</th>
                <th scope="col">{ts("rowsTotal")}</th>
                <th scope="col">{ts("rowsCreated")}</th>
                <th scope="col">{ts("rowsUpdated")}</th>
                <th scope="col">{ts("rowsUnchanged")}</th>
                <th scope="col">{ts("rowsFailed")}</th>
                <th scope="col">{ts("viewReport")}</th>
              </tr>
            }
          >
            {items.map((i) => (
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
                    {ts("viewReport")}
                  </a>
                </td>
              </tr>
            ))}
          </Table>
        )}
        <Pager page={paged.page} hasPrev={paged.hasPrev} hasNext={paged.hasNext} onPrev={paged.prev} onNext={paged.next} busy={paged.loading} />
      </div>
    </div>
  );
}
