// Outbound webhook endpoints (admin): list, create (the signing secret is shown once), delete,
// and each endpoint's delivery log.
import { useState } from "preact/hooks";
import { moment } from "../../common/i18n";
import { api } from "../session";
import { label, t } from "../strings";
import { CheckGroup, CreateCard, DeleteButton, FormEnd, ShownOnce, ToggleButton, useCreate, useOpen } from "../forms";
import { AdminOnly, Field, ItemsTable, ListCard, LoadState, Pager, localError, useAction, usePaged } from "../ui";
import type { WebhookDeliveryPage, WebhookEndpoint as Endpoint, WebhookEndpointCreated, WebhookEndpointPage } from "../../common/types";
import { API_ENUMS } from "../../common/enums";

const EVENTS = API_ENUMS.webhook_event;

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
  const open = useOpen<string>();
  const items = paged.data?.items ?? [];
  return (
    <ListCard title={t("endpoints")} load={paged} action={del} testid="endpoints-table" cols={["URL", t("events"), t("description"), t("created"), t("actions")]} foot={open.open && <Deliveries key={open.open} endpoint={items.find((e) => e.endpoint_id === open.open)!} />}>
      {(ep) => (
        <tr key={ep.endpoint_id} data-testid="endpoint-row">
          <td class="mono break">{ep.url}</td>
          <td>{ep.events.map((e) => label("webhook_event", e)).join("、")}</td>
          <td>{ep.description ?? ""}</td>
          <td class="nowrap">{moment(ep.created_at)}</td>
          <td>
            <div class="row">
              <ToggleButton open={open.is(ep.endpoint_id)} onClick={() => open.toggle(ep.endpoint_id)} label={t("deliveries")} />
              <DeleteButton
                action={del}
                path={`/v1/webhook-endpoints/${encodeURIComponent(ep.endpoint_id)}`}
                question={t("deleteEndpointQuestion")}
                ok={t("endpointDeleted")}
                after={paged.reload}
              />
            </div>
          </td>
        </tr>
      )}
    </ListCard>
  );
}

function Deliveries({ endpoint }: { endpoint: Endpoint }) {
  const paged = usePaged((cursor) =>
    api<WebhookDeliveryPage>(`/v1/webhook-endpoints/${encodeURIComponent(endpoint.endpoint_id)}/deliveries?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`),
  );
  return (
    <div class="stack" data-testid="deliveries">
      <h3>
        {t("deliveriesOf")} <span class="mono break">{endpoint?.url}</span>
      </h3>
      <LoadState load={paged} always />
      <ItemsTable
        items={paged.data?.items}
        caption={t("deliveries")}
        cols={[t("created"), t("eventType"), t("state"), t("attempts"), t("lastStatus"), t("deliveredAt"), t("nextAttempt")]}
      >
        {(d) => (
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
        )}
      </ItemsTable>
      <Pager of={paged} />
    </div>
  );
}

function CreateEndpoint({ onCreated }: { onCreated: () => void }) {
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [events, setEvents] = useState<string[]>([...EVENTS]);
  const [secret, setSecret] = useState<string | null>(null);
  const { action, create } = useCreate<WebhookEndpointCreated>("/v1/webhook-endpoints");
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!/^https?:\/\/\S+$/i.test(url.trim())) return action.fail(localError("url", t("urlBad")));
    if (events.length === 0) return action.fail(localError("events", t("pickOneEvent")));
    const body: Record<string, unknown> = { url: url.trim(), events };
    if (description.trim()) body.description = description.trim();
    const out = await create(body, t("endpointCreated"));
    if (out) {
      setSecret(out.secret);
      setUrl("");
      setDescription("");
      onCreated();
    }
  };
  const shown = secret && (
    <ShownOnce
      testid="endpoint-secret"
      warning={t("secretOnce")}
      id="w-secret"
      label={t("signingSecret")}
      value={secret}
      hideLabel={t("hideKey")}
      onHide={() => setSecret(null)}
    />
  );
  return (
    <CreateCard testid="endpoint-form" title={t("newEndpoint")} onSubmit={submit} shown={shown}>
      <div class="grid">
        <Field id="w-url" label="URL" hint={t("urlHint")} error={action.fieldError("url")}>
          {(a) => <input {...a} type="url" maxLength={2048} value={url} onInput={(e) => setUrl(e.currentTarget.value)} data-testid="endpoint-url" />}
        </Field>
        <Field id="w-desc" label={t("description")} error={action.fieldError("description")}>
          {(a) => <input {...a} maxLength={200} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />}
        </Field>
      </div>
      <CheckGroup
        legend={t("events")}
        idPrefix="w-ev"
        options={EVENTS}
        label={(ev) => (
          <>
            {label("webhook_event", ev)} <span class="hint mono">{ev}</span>
          </>
        )}
        checked={events}
        onChange={setEvents}
        error={action.fieldError("events")}
      />
      <FormEnd action={action} fields={["url", "events", "description"]} status="endpoint" label={t("createEndpoint")} testid="endpoint-submit" />
    </CreateCard>
  );
}
