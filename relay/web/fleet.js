"use strict";
// The fleet page: reads the fleet table with the view grant from the URL fragment. No key and
// no long-lived secret: the grant is staff-signed, read-only and expires within the hour.
(function () {
  const status = document.getElementById("status");
  const body = document.querySelector("#fleet tbody");
  const grant = decodeURIComponent(location.hash.replace(/^#/, ""));
  const org = location.pathname.split("/")[2] || "";

  function text(el, s) { el.textContent = s; return el; }
  function cell(tr, s) { const td = document.createElement("td"); text(td, s); tr.appendChild(td); return td; }
  function when(t, now) {
    if (t === null || t === undefined) return "never";
    const h = Math.floor((now - t) / 3600);
    const d = new Date(t * 1000).toISOString().replace("T", " ").replace(/:\d\d\.\d+Z$/, " UTC");
    return d + (h >= 1 ? " (" + h + " h ago)" : "");
  }

  function render(f) {
    text(document.getElementById("org"), "— " + f.org);
    body.textContent = "";
    for (const d of f.devices) {
      const tr = document.createElement("tr");
      tr.dataset.device = d.device_id;
      if (d.flags.includes("unacked_wipe") || d.flags.includes("silent")) tr.className = "danger";
      else if (d.flags.length) tr.className = "attention";
      const id = document.createElement("code");
      text(id, d.device_id);
      const td = document.createElement("td");
      td.appendChild(id);
      tr.appendChild(td);
      cell(tr, d.mode);
      cell(tr, d.enrolled ? (d.key_accepted ? "yes (key accepted)" : "yes (key not yet accepted)") : "waiting for the phone");
      cell(tr, when(d.last_checkin, f.now));
      cell(tr, d.policy_version === null ? "—" : "v" + d.policy_version + (d.policy_stale ? " (stale)" : ""));
      const fk = Object.entries(d.findings).map(([k, n]) => k + (n > 1 ? " ×" + n : ""));
      const ftd = cell(tr, fk.length ? fk.join(", ") : "none");
      if (!fk.length) ftd.className = "ok";
      cell(tr, d.commands.queued + " / " + d.commands.delivered + " / " + d.commands.acknowledged);
      cell(tr, d.wiped ? "wiped (" + d.wiped + ")" : (d.unacked_wipe ? "sent, no receipt yet" : "—"));
      const at = document.createElement("td");
      for (const fl of d.flags) {
        const s = document.createElement("span");
        s.className = "flag " + fl;
        text(s, fl.replace("_", " "));
        at.appendChild(s);
      }
      tr.appendChild(at);
      body.appendChild(tr);
    }
    const n = f.devices.filter((d) => d.flags.length).length;
    text(status, f.devices.length + " devices, " + n + " need attention. As of " + when(f.now, f.now) + ".");
    status.dataset.loaded = "true";
  }

  if (!grant) {
    text(status, "This page needs a view link from `quietline-admin fleet link`.");
    return;
  }
  fetch("/o/" + encodeURIComponent(org) + "/admin/fleet", { headers: { Authorization: "QL-View " + grant }, cache: "no-store" })
    .then((r) => {
      if (!r.ok) throw new Error(r.status === 401 ? "the view link has expired or is not valid" : "the relay answered " + r.status);
      return r.json();
    })
    .then(render)
    .catch((e) => { text(status, "Cannot show the fleet: " + e.message + "."); status.dataset.loaded = "error"; });
})();
