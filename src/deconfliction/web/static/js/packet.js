// "Print packet": the signed-in party's situation packet (GET /v1/packet, docs/packet.md) at the time the
// slider shows, downloaded as a PDF to print before the link goes. A module of its own: it reads the
// slider and the key the page signed in with, and changes nothing else on the page.
import { Api, ApiError } from "./api.js";
import { serviceNow } from "./clock.js";

const KEY = "deconfliction.api-key"; // where app.js keeps the signed-in key for the session
const STEP_MS = 15 * 60 * 1000; // one step of the time slider (app.js)

const $ = (id) => document.getElementById(id);

async function downloadPacket() {
  const status = $("packet-status");
  const key = sessionStorage.getItem(KEY);
  if (!key) {
    status.textContent = "Sign in first.";
    return;
  }
  const steps = Number($("time").value);
  const query = new URLSearchParams({ paper: $("packet-paper").value });
  if (steps > 0) query.set("at", new Date(serviceNow() + steps * STEP_MS).toISOString().replace(/\.\d+Z$/, "Z"));
  status.textContent = "Preparing the packet…";
  $("print-packet").disabled = true;
  try {
    const api = new Api(key);
    const response = await fetch(`/v1/packet?${query}`, { headers: api.headers({ Accept: "application/pdf" }) });
    if (!response.ok) {
      const problem = await response.json().catch(() => null);
      throw new ApiError(response.status, problem);
    }
    const blob = await response.blob();
    const named = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = named ? named[1] : "packet.pdf";
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
    status.textContent = `Packet downloaded: ${link.download}. Print it.`;
  } catch (err) {
    status.textContent = `No packet: ${err.message}`;
  } finally {
    $("print-packet").disabled = false;
  }
}

$("print-packet").addEventListener("click", downloadPacket);
