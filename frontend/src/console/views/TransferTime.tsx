// 转赠 (admin): whole unused months of this terminal move to another of the agent's terminals. The
// receiving terminal is found as you type (GET /v1/terminals?q=), a confirm step states both SNs and
// the months, the result shows both new expiries, and the API's refusals are said in plain words.
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "../../common/api";
import { day } from "../../common/i18n";
import { api } from "../session";
import { t, tn } from "../strings";
import { FormCard } from "../forms";
import { Field, Status, Submit, Table, localError, useAction, useIdempotencyKey } from "../ui";
import { daysLeft } from "./Terminals";
import type { Terminal, TerminalPage, TimeTransfer as TransferOut, TransferSide as Side } from "../../common/types";



/** The API's refusal, in the words of the screen and at the field it concerns. */
export function explainTransferError(e: unknown): unknown {
  if (!(e instanceof ApiError)) return e;
  if (e.code === "terminal_not_found" && e.field === "to_sn") return localError("to_sn", t("transferToNotFound"));
  if (e.code === "same_terminal") return localError("to_sn", t("transferSame"));
  if (e.code === "not_enough_time") {
    const left = /has (\d+) whole/.exec(e.message);
    const n = left ? Number(left[1]) : 0;
    return localError("months", n > 0 ? tn("transferNotEnough", n) : t("transferNotEnoughNone"));
  }
  if (e.code === "terminal_deactivated") {
    const which = /terminal (\S+) is deactivated/.exec(e.message);
    return localError(undefined, which ? t("transferDeactivatedOne", { sn: which[1] }) : t("err_terminal_deactivated"));
  }
  return e;
}

/** The receiving terminal's SN, with matches offered as you type; `sn` (the giving one) is never offered. */
function TargetPicker(props: { sn: string; value: string; onChange: (sn: string) => void; error?: string }) {
  const [q, setQ] = useState("");
  const [found, setFound] = useState<Terminal[] | null>(null);
  const seq = useRef(0);
  useEffect(() => {
    const mine = ++seq.current;
    if (q.trim().length < 2) return setFound(null);
    const timer = setTimeout(() => {
      const qs = new URLSearchParams({ q: q.trim(), limit: "8" });
      api<TerminalPage>(`/v1/terminals?${qs}`).then(
        (page) => mine === seq.current && setFound(page.items.filter((x) => x.sn !== props.sn && x.status !== "deactivated")),
        () => mine === seq.current && setFound([]),
      );
    }, 250);
    return () => clearTimeout(timer);
  }, [q]);
  const pick = (x: Terminal) => {
    seq.current++;
    setQ("");
    setFound(null);
    props.onChange(x.sn);
  };
  return (
    <div class="field merchant-picker" data-testid="transfer-to-picker">
      <label for="tt-to">{t("transferTo")}</label>
      <input
        id="tt-to"
        type="search"
        class="mono"
        maxLength={64}
        autocomplete="off"
        placeholder={t("transferSearch")}
        aria-invalid={props.error ? "true" : undefined}
        aria-describedby={props.error ? "tt-to-hint tt-to-err" : "tt-to-hint"}
        value={props.value}
        onInput={(e) => {
          setQ(e.currentTarget.value);
          props.onChange(e.currentTarget.value);
        }}
        data-testid="transfer-to"
      />
      <div class="hint" id="tt-to-hint">
        {t("transferSearchHint")}
      </div>
      {found && (
        <ul class="picker-list" role="listbox" aria-label={t("transferTo")} data-testid="transfer-to-options">
          {found.length === 0 && <li class="hint">{t("transferNoMatch")}</li>}
          {found.map((x) => (
            <li key={x.sn} role="option" aria-selected={x.sn === props.value ? "true" : "false"}>
              <button type="button" class="link" onClick={() => pick(x)} data-testid="transfer-to-option">
                <span class="mono">{x.sn}</span>{" "}
                <span class="hint">
                  {x.merchant?.name ? `${x.merchant.name} · ` : ""}
                  {day(x.expires_on)} ({daysLeft(x.days_left)})
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {props.error && (
        <div class="field-error" id="tt-to-err" role="alert" data-testid="error-tt-to">
          {props.error}
        </div>
      )}
    </div>
  );
}

function Result({ out }: { out: TransferOut }) {
  return (
    <div class="stack" data-testid="transfer-result">
      <p role="status">
        {tn("transferResult", out.months, {
          months: out.months,
          from: out.from.sn,
          fromAfter: day(out.from.expires_on_after),
          to: out.to.sn,
          toAfter: day(out.to.expires_on_after),
        })}
      </p>
      <Table caption={t("transferTime")} cols={["SN", t("transferBefore"), t("transferAfter")]}>
        {[
          [t("transferFrom"), out.from],
          [t("transferToShort"), out.to],
        ].map(([role, side]) => (
          <tr key={(side as Side).sn} data-testid="transfer-result-row">
            <td>
              <span class="mono">{(side as Side).sn}</span> <span class="hint">{role as string}</span>
            </td>
            <td>{day((side as Side).expires_on_before)}</td>
            <td data-testid="transfer-result-after">{day((side as Side).expires_on_after)}</td>
          </tr>
        ))}
      </Table>
    </div>
  );
}

export function TransferTime({ sn, onDone }: { sn: string; onDone: () => void }) {
  const [toSn, setToSn] = useState("");
  const [months, setMonths] = useState("1");
  const [reason, setReason] = useState("");
  const [confirming, setConfirming] = useState(false);
  const [result, setResult] = useState<TransferOut | null>(null);
  const idem = useIdempotencyKey();
  const action = useAction();
  const fe = action.fieldError;
  const check = (e: Event) => {
    e.preventDefault();
    setResult(null);
    const n = Number(months);
    if (!toSn.trim()) return action.fail(localError("to_sn", t("transferToRequired")));
    if (toSn.trim().toUpperCase() === sn.toUpperCase()) return action.fail(localError("to_sn", t("transferSame")));
    if (!Number.isInteger(n) || n < 1 || n > 36) return action.fail(localError("months", t("transferMonthsRange")));
    if (!reason.trim()) return action.fail(localError("reason", t("transferReasonRequired")));
    action.clear();
    setConfirming(true);
  };
  const send = async () => {
    setConfirming(false);
    const sent = { to_sn: toSn.trim(), months: Number(months), reason: reason.trim() };
    const path = `/v1/terminals/${encodeURIComponent(sn)}/transfer-time`;
    const out = await action.run(async () => {
      try {
        return await api<TransferOut>(path, { method: "POST", body: sent, idempotencyKey: idem.keyFor(sent) });
      } catch (err) {
        throw explainTransferError(err);
      }
    }, t("transferDone"));
    if (out) {
      setResult(out);
      setToSn("");
      setReason("");
      idem.done();
      onDone();
    }
  };
  return (
    <FormCard testid="transfer-time-form" title={t("transferTime")} hint={t("transferTimeHint")} onSubmit={check}>
      <div class="grid">
        <TargetPicker sn={sn} value={toSn} onChange={(v) => { setToSn(v); setConfirming(false); }} error={fe("to_sn")} />
        <Field id="tt-months" label={t("transferMonths")} hint={t("transferMonthsRange")} error={fe("months")}>
          {(a) => <input {...a} type="number" min={1} max={36} step={1} value={months} onInput={(e) => { setMonths(e.currentTarget.value); setConfirming(false); }} data-testid="transfer-months" />}
        </Field>
        <Field id="tt-reason" label={t("reason")} error={fe("reason")}>
          {(a) => <input {...a} maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} data-testid="transfer-reason" />}
        </Field>
      </div>
      <Status action={action} fields={["to_sn", "months", "reason"]} testid="transfer-time" />
      {result && <Result out={result} />}
      {confirming ? (
        <div class="alert info row" role="alert" data-testid="transfer-question">
          <span>{tn("transferQuestion", Number(months), { months: Number(months), from: sn, to: toSn.trim().toUpperCase() })}</span>
          <button type="button" class="primary" onClick={send} data-testid="transfer-confirm">
            {t("transferConfirm")}
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            {t("cancel")}
          </button>
        </div>
      ) : (
        <div class="row">
          <Submit busy={action.busy} label={t("transferTime")} testid="transfer-submit" />
        </div>
      )}
    </FormCard>
  );
}
