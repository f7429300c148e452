// Outbound webhook endpoints (admin): list, create (the signing secret is shown once), delete,
// and each endpoint's delivery log.
import { useState } from "preact/hooks";
import { moment } from "../../common/i18n";
import { api } from "../session";
import { label, t } from "../strings";
import { AdminOnly, ConfirmButton, CopyButton, ErrorAlert, Field, Loading, Pager, Status, Submit, Table, localError, useAction, usePaged, useIdempotencyKey } from "../ui";
import type { WebhookDeliveryPage, WebhookEndpoint as Endpoint, WebhookEndpointCreated, WebhookEndpointPage } from "../../common/types";



const EVENTS = [
  "terminal.expiring",
  "terminal.expired",
  "terminal.suspended",
  "terminal.risk_flagged",
  "order.fulfilled",
  "order.refunded",
];

export function Webhooks({ admin }: { admin: boolean }) {
  const [round, setRound] = useState(0);
  return (
    <section class="stack" data-testid="view-webhooks">
      <h1>{t("nav_webhooks")}</h1>
      <AdminOnly admin={admin}>
        <CreateEndpoint onCreated={() => setRound(round + 1)} />
        <EndpointList key={round} />
      </AdminOnly>
    </section>
  );
}

function EndpointList() {
  const paged = usePaged((cursor) => api<WebhookEndpointPage>(`/v1/webhook-endpoints?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`));
  const del = useAction();
  const [open, setOpen] = useState<string | null>(null);
  const items = paged.data?.items ?? [];
  return (
    <div class="card stack">
      <h2>{t("endpoints")}</h2>
      <ErrorAlert error={paged.error} />
      <Loading show={paged.loading && !paged.data} />
      <Status action={del} />
      {paged.data && (
        <Table
          caption={t("endpoints")}
          testid="endpoints-table"
          empty={items.length === 0}
          head={
            <tr>
              <th scope="col">URL</th>
              <th scope="col">{t("events")}</th>
              <th scope="col">{t("description")}</th>
              <th scope="col">{t("created")}</th>
              <th scope="col">{t("actions")}</th>
            </tr>
          }
        >
          {items.map((ep) => (
            <tr key={ep.endpoint_id} data-testid="endpoint-row">
              <td class="mono break">{ep.url}</td>
              <td>{ep.events.map((e) => label("webhook_event", e)).join("、")}</td>
              <td>{ep.description ?? ""}</td>
              <td class="nowrap">{moment(ep.created_at)}</td>
              <td>
                <div class="row">
                  <button
                    type="button"
                    aria-expanded={open === ep.endpoint_id ? "true" : "false"}
                    onClick={() => setOpen(open === ep.endpoint_id ? null : ep.endpoint_id)}
                  >
                    {t("deliveries")}
                  </button>
                  <ConfirmButton
                    label={t("delete")}
                    confirmLabel={t("deleteConfirm")}
                    question={t("deleteEndpointQuestion")}
                    danger
                    busy={del.busy}
                    onConfirm={async () => {
                      const ok = await del.run(
                        () => api(`/v1/webhook-endpoints/${encodeURIComponent(ep.endpoint_id)}`, { method: "DELETE" }).then(() => true),
                        t("endpointDeleted"),
                      );
                      if (ok) paged.reload();
                    }}
                  />
                </div>
              </td>
            </tr>
          ))}
        </Table>
      )}
      <Pager page={paged.page} hasPrev={paged.hasPrev} hasNext={paged.hasNext} onPrev={paged.prev} onNext={paged.next} busy={paged.loading} />
      {open && <Deliveries key={open} endpoint={items.find((e) => e.endpoint_id === open)!} />}
    </div>
  );
}

function Deliveries({ endpoint }: { endpoint: Endpoint }) {
  const paged = usePaged((cursor) =>
    api<WebhookDeliveryPage>(`/v1/webhook-endpoints/${encodeURIComponent(endpoint.endpoint_id)}/deliveries?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`),
  );
  const items = paged.data?.items ?? [];
  return (
    <div class="stack" data-testid="deliveries">
      <h3>
        {t("deliveriesOf")} <span class="mono break">{endpoint?.url}</span>
      </h3>
      <ErrorAlert error={paged.error} />
      <Loading show={paged.loading} />
      {paged.data && (
        <Table
          caption={t("deliveries")}
          empty={items.length === 0}
          head={
            <tr>
              <th scope="col">{t("created")}</th>
              <th scope="col">{t("eventType")}</th>
              <th scope="col">{t("state")}</th>
              <th scope="col">{t("attempts")}</th>
              <th scope="col">{t("lastStatus")}</th>
              <th scope="col">{t("deliveredAt")}</th>
              <th scope="col">{t("nextAttempt")}</th>
            </tr>
          }
        >
          {items.map((d) => (
            <tr key={d.delivery_id}>
              <td class="nowrap">{moment(d.created_at)}</td>
              <td class="mono">{d.event_type}</td>
              <td>{label("webhook_delivery_state", d.state)}</td>
              <td class="num">{d.attempts}</td>
              <td>
                {d.last_status ?? "—"} {d.last_error && <span class="hint break">{d.last_error}</span>}
              </td>
              <td class="nowrap">{moment(d.delivered_at)}</td>
              <td class="nowrap">{moment(d.next_attempt_at)}</td>
            </tr>
          ))}
        </Table>
      )}
      <Pager page={paged.page} hasPrev={paged.hasPrev} hasNext={paged.hasNext} onPrev={paged.prev} onNext={paged.next} busy={paged.loading} />
    </div>
  );
}

function CreateEndpoint({ onCreated }: { onCreated: () => void }) {
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [events, setEvents] = useState<string[]>([...EVENTS]);
  const idem = useIdempotencyKey();
  const [secret, setSecret] = useState<string | null>(null);
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!/^https?:\/\/\S+$/i.test(url.trim())) return action.fail(localError("url", t("urlBad")));
    if (events.length === 0) return action.fail(localError("events", t("pickOneEvent")));
    const body: Record<string, unknown> = { url: url.trim(), events };
    if (description.trim()) body.description = description.trim();
    const out = await action.run(
      () => api<WebhookEndpointCreated>("/v1/webhook-endpoints", { method: "POST", body, idempotencyKey: idem.keyFor(body) }),
      t("endpointCreated"),
    );
    if (out) {
      setSecret(out.secret);
      setUrl("");
      setDescription("");
      idem.done();
      onCreated();
    }
  };
  const evErr = action.fieldError("events");
  return (
    <div class="card stack">
      <form class="stack" onSubmit={submit} noValidate data-testid="endpoint-form">
        <h2>{t("newEndpoint")}</h2>
        <div class="grid">
          <Field id="w-url" label="URL" hint={t("urlHint")} error={action.fieldError("url")}>
            {(a) => <input {...a} type="url" maxLength={2048} value={url} onInput={(e) => setUrl(e.currentTarget.value)} data-testid="endpoint-url" />}
          </Field>
          <Field id="w-desc" label={t("description")} error={action.fieldError("description")}>
            {(a) => <input {...a} maxLength={200} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />}
          </Field>
        </div>
        <fieldset aria-describedby={evErr ? "w-events-err" : undefined}>
          <legend>{t("events")}</legend>
          <div class="row">
            {EVENTS.map((ev) => (
              <div class="check" key={ev}>
                <input
                  type="checkbox"
                  id={`w-ev-${ev}`}
                  checked={events.includes(ev)}
                  onChange={(e) => setEvents(e.currentTarget.checked ? [...events, ev] : events.filter((x) => x !== ev))}
                />
                <label for={`w-ev-${ev}`}>
                  {label("webhook_event", ev)} <span class="hint mono">{ev}</span>
                </label>
              </div>
            ))}
          </div>
          {evErr && (
            <div class="field-error" id="w-events-err" role="alert">
              {evErr}
            </div>
          )}
        </fieldset>
        <Status action={action} fields={["url", "events", "description"]} testid="endpoint" />
        <div class="row">
          <Submit busy={action.busy} label={t("createEndpoint")} testid="endpoint-submit" />
        </div>
      </form>
      {secret && (
        <div class="stack" data-testid="endpoint-secret">
          <div class="alert error" role="alert">
            {t("secretOnce")}
          </div>
          <label for="w-secret">{t("signingSecret")}</label>
          <input id="w-secret" class="mono" readOnly value={secret} onFocus={(e) => e.currentTarget.select()} />
          <div class="row">
            <CopyButton text={secret} />
            <button type="button" onClick={() => setSecret(null)}>
              {t("hideKey")}
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
