// Large files both ways (issue 19): a fleet file PUT straight to its presigned upload URL with
// upload progress (XMLHttpRequest, which reports it; fetch does not), and CSV lists too large for
// one answer (413 export_too_large) exported through POST /v1/exports and downloaded by the
// short-lived URL it answers.
import { ApiError, newIdempotencyKey } from "../common/api";
import { saveBlob } from "./format";
import { api, apiBlob } from "./session";
import type { Export as ExportJob, ImportUpload as Upload } from "../common/types";


/** PUT the bytes to the presigned URL; onProgress(sent, total) as they leave the browser. */
export function putFile(url: string, headers: Record<string, string>, file: Blob, onProgress: (sent: number, total: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(new ApiError(xhr.status, "upload_failed", `upload answered ${xhr.status}`)));
    xhr.onerror = () => reject(new ApiError(0, "network", "network"));
    xhr.send(file);
  });
}

/** Ask for an upload (the import starts by itself once the file has arrived) and send the file. */
export async function uploadImport(file: File, onProgress: (sent: number, total: number) => void): Promise<string> {
  const out = await api<Upload>("/v1/imports", {
    method: "POST",
    body: { filename: file.name, size_bytes: file.size },
    idempotencyKey: newIdempotencyKey(),
  });
  await putFile(out.upload.url, out.upload.headers, file, onProgress);
  return out.import_id;
}


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The list's CSV: at once when it fits one answer, else through an export (polled every second). */
export async function saveCsv(path: string, name: string, kind: string, filters: Record<string, string>, onExporting?: () => void): Promise<void> {
  try {
    saveBlob(await apiBlob(path, { accept: "text/csv" }), name);
    return;
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 413 && e.code === "export_too_large")) throw e;
  }
  onExporting?.();
  const started = await api<{ export_id: string }>("/v1/exports", { method: "POST", body: { kind, filters }, idempotencyKey: newIdempotencyKey() });
  for (let i = 0; i < 1800; i++) {
    const job = await api<ExportJob>(`/v1/exports/${encodeURIComponent(started.export_id)}`);
    if (job.status === "done" && job.download_url) {
      const a = document.createElement("a");
      a.href = job.download_url;
      a.download = name;
      a.rel = "noopener";
      document.body.appendChild(a);
      a.click();
      a.remove();
      return;
    }
    if (job.status === "failed") throw new ApiError(422, "export_failed", job.message ?? "export failed");
    await sleep(1000);
  }
  throw new ApiError(0, "export_timeout", "export timeout");
}
