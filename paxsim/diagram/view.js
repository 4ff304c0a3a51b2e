// paxsim's interactive run view: no library, no network. The run is the JSON in #run.
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("run").textContent);
  const E = D.events;
  const byI = new Map(E.map(e => [e.i, e]));
  const LANES = D.clients.map(n => ({ name: n, kind: "client" })).concat(D.servers.map(n => ({ name: n, kind: "server" })));
  const SUB = 7, MARGIN_L = 56, TOP = 14;
  const COLOR = { REQ: "#2f6f3e", REPLY: "#6b3fa0", HB: "#aaaaaa" }, ARROW = "#1f4e79", LOST = "#c0392b";
  const esc = s => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  const isMsg = e => e.ev === "deliver" || e.ev === "drop";
  const types = [...new Set(E.filter(isMsg).map(e => e.type || "?"))].sort();
  if (E.some(e => e.ev === "timer")) types.push("timer");
  const delays = E.filter(e => e.ev === "deliver" && e.t0 !== undefined).map(e => e.t - e.t0).sort((a, b) => a - b);
  const typical = delays.length ? Math.max(delays[delays.length >> 1], 0.05) : 1;
  const conflictSrv = new Map();      // server -> what the checker names it for
  const warnPos = new Set();
  D.violations.forEach(v => { if (!v.liveness) v.positions.forEach(p => {
    warnPos.add(p); const e = byI.get(p);
    if (e && e.src && D.servers.includes(e.src)) {
      const why = e.ev === "execute" ? "executed in a conflicting order" : "sent a conflicting reply";
      if (!conflictSrv.has(e.src) || why.startsWith("sent")) conflictSrv.set(e.src, why);
    } }); });

  // ---------------------------------------------------------------- page skeleton
  const m = D.meta;
  const title = m.name ? `${m.name}: ${m.protocol}, seed ${m.seed}` : (m.title || "paxsim run");
  document.body.insertAdjacentHTML("beforeend", `
<header id="top"><h1>${esc(title)}</h1>
 ${m.description ? `<div class="desc">${esc(m.description)}</div>` : ""}
 ${m.claim ? `<details><summary>what the figure shows and the tutorial says</summary>${esc(m.claim)}</details>` : ""}
 <div class="verdict">outcome <span class="${esc(m.outcome || "")}">${esc(m.outcome || "-")}</span>${m.expected ? ` · expected ${esc(m.expected)}` : ""} · ${LANES.length} processes, ${E.filter(isMsg).length} messages (heartbeats included)${D.states ? "" : " · no replica state (a bare trace, or a protocol without inspect())"}${D.window && (D.window[0] !== null || D.window[1] !== null) ? ` · the window from t=${D.window[0] ?? "start"} to t=${D.window[1] ?? "end"}` : ""}</div>
 <ul id="violations"></ul></header>
<div id="bar">
 <fieldset id="f-types"><legend>types</legend></fieldset>
 <fieldset id="f-procs"><legend>processes</legend></fieldset>
 <fieldset><legend>slot</legend><input id="f-slot" type="text" placeholder="1,3-5"><legend>round</legend><input id="f-rnd" type="text"><legend>request</legend><input id="f-m" type="text" placeholder="m1,m2"></fieldset>
 <fieldset><legend>time</legend><label><input id="compress" type="checkbox"> compress idle</label>
  <button id="zout" title="zoom out (-)">−</button><button id="zin" title="zoom in (+)">+</button><button id="zfit" title="whole run in view">fit</button>
  <label><input id="labels" type="checkbox" checked> labels</label></fieldset>
 <fieldset><legend>cursor</legend><button id="home" title="Home">⇤</button><button id="prev" title="← or ↑">◀</button><button id="next" title="→, ↓ or space">▶</button><button id="end" title="End">⇥</button><span id="pos"></span></fieldset>
</div>
<div id="main"><div id="scroll"><div id="heads"></div><svg id="dia" xmlns="http://www.w3.org/2000/svg"></svg></div><aside id="side"></aside></div>`);
  const $ = id => document.getElementById(id);
  const scroller = $("scroll"), svg = $("dia"), heads = $("heads"), side = $("side");

  const vlist = $("violations");
  D.violations.forEach((v, k) => {
    const li = document.createElement("li");
    li.className = v.latent ? "latent" : "";
    li.innerHTML = `<b>${esc(v.invariant)}</b>${v.latent ? " (latent)" : ""}: ${esc(v.detail)}` +
      v.positions.map((p, j) => ` <a href="#" class="jump" data-pos="${p}">jump to ${j === 0 ? "it" : "#" + (j + 1)}</a>`).join("");
    vlist.appendChild(li);
  });
  if (!D.violations.length) vlist.style.display = "none";
  vlist.addEventListener("click", ev => {
    const a = ev.target.closest("a.jump"); if (!a) return;
    ev.preventDefault(); jumpTo(+a.dataset.pos);
  });

  const shownType = {}, shownProc = {}, down = new Set(D.down || []);
  types.forEach(t => { shownType[t] = !(t === "HB" && !D.heartbeats) && t !== "timer"; });
  LANES.forEach(l => { shownProc[l.name] = !D.only || D.only.includes(l.name); });
  const box = (parent, key, store) => {
    const lab = document.createElement("label");
    lab.innerHTML = `<input type="checkbox" data-k="${esc(key)}"${store[key] ? " checked" : ""}> ${esc(key)}`;
    lab.firstChild.addEventListener("change", ev => { store[key] = ev.target.checked; layout(); });
    parent.appendChild(lab);
  };
  types.forEach(t => box($("f-types"), t, shownType));
  LANES.forEach(l => box($("f-procs"), l.name, shownProc));
  const parseSet = s => {
    const out = new Set();
    s.split(",").map(x => x.trim()).filter(Boolean).forEach(x => {
      const r = x.match(/^(\d+)\s*-\s*(\d+)$/);
      if (r) { for (let k = +r[1]; k <= +r[2] && k - r[1] < 100000; k++) out.add(String(k)); } else out.add(x);
    });
    return out.size ? out : null;
  };
  let fSlot = null, fRnd = null, fM = null;
  [["f-slot", v => { fSlot = v; }], ["f-rnd", v => { fRnd = v; }], ["f-m", v => { fM = v; }]].forEach(([id, set]) =>
    $(id).addEventListener("input", ev => { set(parseSet(ev.target.value)); layout(); }));

  // ---------------------------------------------------------------- what is shown
  function matches(set, v) {
    if (!set) return true;
    if (v === undefined || v === null) return false;
    return Array.isArray(v) ? v.some(x => set.has(String(x))) : set.has(String(v));
  }
  function visible(e) {
    if (isMsg(e)) {
      return shownType[e.type || "?"] && shownProc[e.src] && shownProc[e.dst] && e.t0 !== undefined &&
        matches(fSlot, e.slot) && matches(fRnd, e.rnd) && matches(fM, e.m);
    }
    if (e.ev === "timer") return shownType.timer && shownProc[e.src];
    if (e.ev === "execute" || e.ev === "invoke") return shownProc[e.src] && !fSlot && !fRnd && matches(fM, e.m);
    if (e.ev === "crash" || e.ev === "recover") return shownProc[e.src];
    return e.ev === "partition" || e.ev === "heal";
  }

  // ---------------------------------------------------------------- layout
  let baseOf = new Map(), scale = 0, V = [], laneX = {}, rowBase = new Map(), rowRank = new Map(), times = [], bases = [], height = 0, width = 0;
  let cursor = 0, cursorList = [];
  const compressCap = () => Math.max(3 * typical, 2);
  function yAt(t) {         // any time: interpolated between rows
    if (!times.length) return TOP;
    let lo = 0, hi = times.length - 1;
    if (t <= times[0]) return bases[0] - Math.min(times[0] - t, 1) * scale;
    if (t >= times[hi]) return bases[hi] + gap(t - times[hi]);
    while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (times[mid] <= t) lo = mid; else hi = mid; }
    const b0 = bases[lo] + rowBase.get(times[lo]) * SUB;
    return b0 + (bases[hi] - b0) * (t - times[lo]) / (times[hi] - times[lo]);
  }
  function gap(dt) { return ($("compress").checked ? Math.min(dt, compressCap()) : dt) * scale; }
  function yOf(t, i) { return (baseOf.get(t) ?? yAt(t)) + (rowRank.get(i) || 0) * SUB; }

  function layout(keepCursor = true) {
    const at = cursorList[cursor];
    V = E.filter(visible);
    const lanes = LANES.filter(l => shownProc[l.name]);
    const avail = scroller.clientWidth - MARGIN_L - 24;   // room for a vertical scroll bar
    const sp = Math.max(80, Math.min(170, avail / Math.max(lanes.length, 1)));
    laneX = {}; lanes.forEach((l, k) => { laneX[l.name] = MARGIN_L + sp / 2 + k * sp; });
    width = MARGIN_L + sp * lanes.length + 4;
    // rows: events at one time are stacked in trace order
    const pts = new Map();
    const add = (t, i) => { if (!pts.has(t)) pts.set(t, new Set()); pts.get(t).add(i); };
    V.forEach(e => { add(e.t, e.i); if (isMsg(e) && e.t0 !== e.t) add(e.t0, e.s); });
    times = [...pts.keys()].sort((a, b) => a - b);
    rowRank = new Map(); rowBase = new Map();
    times.forEach(t => {      // offsets within the row, in units of SUB: an execution box takes two
      const ids = [...pts.get(t)].sort((a, b) => a - b);
      let off = 0;
      ids.forEach(i => { const e = byI.get(i), big = e && e.ev === "execute"; if (big && off) off += 0.5; rowRank.set(i, off); off += big ? 2 : 1; });
      rowBase.set(t, off);
    });
    if (!scale) {             // a delay spans 60 px, or more where events are dense (about 8 px each)
      const ts = V.map(e => e.t), span = Math.max(Math.max(...ts) - Math.min(...ts), 1e-6);
      scale = Math.max(Math.min(80, 60 / typical), Math.min(300, 8 * V.length / span));
    }
    bases = []; let y = TOP + 12;
    times.forEach((t, k) => { if (k) y += gap(t - times[k - 1]) + rowBase.get(times[k - 1]) * SUB; bases.push(y); });
    baseOf = new Map(times.map((t, k) => [t, bases[k]]));
    height = y + 40 + (times.length ? rowBase.get(times[times.length - 1]) * SUB : 0);
    cursorList = V.filter(e => e.ev !== "timer" || shownType.timer).map(e => e.i);
    cursor = 0;
    if (keepCursor && at !== undefined) { const k = cursorList.findIndex(i => i >= at); cursor = k < 0 ? cursorList.length - 1 : k; }
    draw();
  }

  function draw() {
    heads.style.width = width + "px";
    heads.innerHTML = Object.keys(laneX).map(n => `<div class="lane ${LANES.find(l => l.name === n).kind}" style="left:${laneX[n]}px">${esc(n)}</div>`).join("");
    svg.setAttribute("width", width); svg.setAttribute("height", height);
    const out = [];
    const end = D.end;
    // partitions
    let open = null;
    const bands = [];
    E.forEach(e => { if (e.ev === "partition") { if (open) bands.push([open, e.t]); open = e; } else if (e.ev === "heal" && open) { bands.push([open, e.t]); open = null; } });
    if (open) bands.push([open, end]);
    bands.forEach(([p, t1], k) => {
      const y0 = yAt(p.t), y1 = Math.max(yAt(t1), y0 + 4);
      out.push(`<rect class="band" data-i="${p.i}" x="4" y="${y0}" width="${width - 8}" height="${y1 - y0}" fill="#8fa8c8" fill-opacity="0.22"/>`,
        `<text x="8" y="${y0 + 12}" fill="#34495e">partition ${esc((p.groups || []).map(g => g.join(",")).join(" | "))}</text>`);
    });
    // time ticks
    let last = -1e9;
    times.forEach((t, k) => { if (bases[k] - last >= 22) { out.push(`<text class="tick" x="${MARGIN_L - 8}" y="${bases[k] + 3}" text-anchor="end">${+t.toFixed(3)}</text>`); last = bases[k]; } });
    // lanes: up segments, down while crashed
    Object.keys(laneX).forEach(n => {
      const x = laneX[n]; let up = !down.has(n), from = TOP;
      const segs = [];
      E.forEach(e => { if (e.src === n && (e.ev === "crash" || e.ev === "recover")) {
        const y = yOf(e.t, e.i);
        if (e.ev === "crash" && up) { segs.push([from, y, true]); from = y; up = false; }
        if (e.ev === "recover" && !up) { segs.push([from, y, false]); from = y; up = true; } } });
      segs.push([from, height - 10, up]);
      segs.forEach(([a, b, u]) => out.push(`<line x1="${x}" y1="${a}" x2="${x}" y2="${b}" stroke="${u ? "#555" : "#e0b0b0"}" stroke-width="1"${u ? "" : ' stroke-dasharray="2 3"'}/>`));
    });
    const showLabels = $("labels").checked;
    const taken = new Map();  // y bucket -> rectangles of the labels and boxes placed so far
    const keys = r => { const k = []; for (let b = Math.floor(r[1] / 24); b <= Math.floor(r[3] / 24); b++) k.push(b); return k; };
    const free = r => keys(r).every(b => (taken.get(b) || []).every(o => r[0] > o[2] || o[0] > r[2] || r[1] > o[3] || o[1] > r[3]));
    const take = r => keys(r).forEach(b => { if (!taken.has(b)) taken.set(b, []); taken.get(b).push(r); });
    V.forEach(e => { if (e.ev === "execute") {  // boxes first: labels go around them
      const x = laneX[e.src], y = yOf(e.t, e.i), w = Math.max(shortState(e.state || e.m || "").length * 6.7 + 8, 22);
      take([x - w / 2, y - 6, x + w / 2, y + 6]); }
      if (e.ev === "crash") { const x = laneX[e.src], y = yOf(e.t, e.i); take([x - 9, y - 9, x + 9, y + 9]); } });
    const warnFirst = V.filter(e => e.warn && isMsg(e)).concat(V.filter(e => !(e.warn && isMsg(e))));
    warnFirst.forEach(e => {
      if (isMsg(e)) {
        const x0 = laneX[e.src], xd = laneX[e.dst], y0 = yOf(e.t0, e.s);
        let x1 = xd, y1 = yOf(e.t, e.i);
        const lost = e.ev === "drop";
        if (lost && e.t === e.t0) { x1 = x0 + (xd - x0) * 0.45; y1 = yAt(e.t0 + typical * 0.45) + (rowRank.get(e.i) || 0) * SUB; }
        else if (lost) { x1 = x0 + (xd - x0) * 0.9; y1 = y0 + (y1 - y0) * 0.9; }
        if (x0 === xd && !lost) x1 = x0 + 14;
        const color = lost ? LOST : (COLOR[e.type] || ARROW);
        const cls = "arrow" + (e.warn ? " warn" : "") + (lost ? " lost" : "");
        const dash = e.dup ? ' stroke-dasharray="4 3"' : "";
        out.push(`<line class="${cls}" data-i="${e.i}" x1="${x0}" y1="${y0}" x2="${x1}" y2="${y1}" stroke="${color}"${dash}${lost ? "" : ' marker-end="url(#head)"'}><title>${esc(e.src)} → ${esc(e.dst)} ${esc(e.label || e.type)} sent ${+e.t0.toFixed(3)}, ${lost ? "lost (" + esc(e.reason || "") + ")" : "delivered " + +e.t.toFixed(3)}${e.dup ? " (duplicate)" : ""}</title></line>`);
        if (lost) out.push(`<text x="${x1}" y="${y1 + 5}" text-anchor="middle" fill="${LOST}" font-size="17" font-weight="bold" class="lostx" data-i="${e.i}">×</text>`);
        if (showLabels) {       // the first free spot along the arrow, else none (the tooltip has it)
          const text = (e.type === "REPLY" && e.state ? `<${shortState(e.state)}>` : (e.label || e.type)) + (e.dup ? " dup" : ""), w = text.length * 6.7 + 4;
          for (const f of [0.5, 0.38, 0.62, 0.27, 0.73]) {
            const lx = x0 + (x1 - x0) * f, ly = y0 + (y1 - y0) * f, r = [lx - w / 2, ly - 6, lx + w / 2, ly + 6];
            if (!free(r)) continue;
            take(r);
            out.push(`<text class="lbl" x="${lx}" y="${ly + 4}" text-anchor="middle" fill="${e.warn ? "#d62728" : "#222"}">${esc(text)}</text>`);
            break;
          }
        }
      } else if (e.ev === "execute") {
        const x = laneX[e.src], y = yOf(e.t, e.i), full = e.state || e.m || "", lab = shortState(full), w = Math.max(lab.length * 6.7 + 8, 22);
        out.push(`<rect class="box${e.warn ? " warn" : ""}" data-i="${e.i}" x="${x - w / 2}" y="${y - 6}" width="${w}" height="12"><title>${esc(e.src)} executes ${esc(e.m)}: ${esc(lab)}</title></rect><text x="${x}" y="${y + 4}" text-anchor="middle">${esc(lab)}</text>`);
      } else if (e.ev === "crash") {
        const x = laneX[e.src], y = yOf(e.t, e.i), r = 7;
        out.push(`<g class="crash" data-i="${e.i}" stroke="${LOST}" stroke-width="3.5" stroke-linecap="round"><title>${esc(e.src)} crashes at ${e.t}</title><line x1="${x - r}" y1="${y - r}" x2="${x + r}" y2="${y + r}"/><line x1="${x - r}" y1="${y + r}" x2="${x + r}" y2="${y - r}"/></g>`);
      } else if (e.ev === "recover") {
        const x = laneX[e.src], y = yOf(e.t, e.i);
        out.push(`<line x1="${x - 8}" y1="${y}" x2="${x + 8}" y2="${y}" stroke="#2f6f3e" stroke-width="3" class="recover" data-i="${e.i}"><title>${esc(e.src)} recovers at ${e.t}</title></line>`);
      } else if (e.ev === "invoke") {
        out.push(`<circle cx="${laneX[e.src]}" cy="${yOf(e.t, e.i)}" r="3" fill="#2f6f3e" class="invoke" data-i="${e.i}"><title>${esc(e.src)} invokes ${esc(e.m)}</title></circle>`);
      } else if (e.ev === "timer") {
        out.push(`<circle cx="${laneX[e.src]}" cy="${yOf(e.t, e.i)}" r="2.5" fill="#fff" stroke="#888" class="timer" data-i="${e.i}"><title>${esc(e.src)} timer ${esc(e.timer)}</title></circle>`);
      }
    });
    out.push(`<line id="cursorline" x1="0" x2="${width}" y1="0" y2="0" stroke="#e6a700" stroke-width="1.5" stroke-dasharray="6 3"/>`);
    svg.innerHTML = `<defs><marker id="head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>` + out.join("");
    setCursor(cursor, false);
  }

  // ---------------------------------------------------------------- cursor and state
  function stateAt(pid, i) {
    const st = {}, chg = new Set();
    ((D.states || {})[pid] || []).forEach(([k, key, v]) => {
      if (k > i) return;
      if (v === null) delete st[key]; else st[key] = v;
      if (k === i) chg.add(key.replace(/\[.*$/, ""));
    });
    return [st, chg];
  }
  function upAt(pid, i) {
    let up = !down.has(pid);
    E.forEach(e => { if (e.i <= i && e.src === pid && (e.ev === "crash" || e.ev === "recover")) up = e.ev === "recover"; });
    return up;
  }
  function fmtVal(v) { return Array.isArray(v) ? "[" + v.join(", ") + "]" : (v === true ? "yes" : v === false ? "no" : String(v)); }
  function stateTable(st, chg) {
    const groups = new Map();
    Object.keys(st).forEach(k => {
      const mm = k.match(/^(.*)\[(.*)\]$/);
      const g = mm ? mm[1] : k;
      if (!groups.has(g)) groups.set(g, []);
      if (mm && mm[2] !== "") groups.get(g).push([mm[2], st[k]]);
      else if (!mm) groups.get(g).push([null, st[k]]);
    });
    const rows = [];
    groups.forEach((items, g) => {
      let txt;
      if (items.length === 1 && items[0][0] === null) txt = esc(fmtVal(items[0][1]));
      else {
        items.sort((a, b) => (+a[0] - +b[0]) || String(a[0]).localeCompare(String(b[0])));
        const n = items.length, shown = items.slice(-12);
        txt = (n > shown.length ? `(${n - shown.length} earlier) ` : "") + shown.map(([k, v]) => `${esc(k)}: ${esc(fmtVal(v))}`).join(", ");
        if (!n) txt = "-";
      }
      rows.push(`<tr class="${chg.has(g) ? "chg" : ""}"><td class="k">${esc(g)}</td><td>${txt}</td></tr>`);
    });
    return `<table>${rows.join("")}</table>`;
  }
  function shortState(s) {     // s^(1,5,9,6,10,2) -> s^(…4 more,10,2): as long states are written
    const mm = s.match(/^s\^\((.*)\)$/);
    if (!mm || s.length <= 14) return s;
    let ids = mm[1].split(","), more = 0;
    const m0 = ids[0].match(/^…(\d+) more$/);
    if (m0) { more = +m0[1]; ids = ids.slice(1); }
    return `s^(…${more + ids.length - 2} more,${ids.slice(-2).join(",")})`;
  }
  function describe(e) {
    if (isMsg(e)) return `${e.src} → ${e.dst} ${e.label || e.type}` + (e.ev === "drop" ? ` lost (${e.reason || "?"})` : " delivered") + (e.dup ? " (duplicate)" : "");
    if (e.ev === "execute") return `${e.src} executes ${e.m}: ${e.state}`;
    if (e.ev === "invoke") return `${e.src} invokes ${e.m}`;
    if (e.ev === "partition") return "partition " + (e.groups || []).map(g => g.join(",")).join(" | ");
    if (e.ev === "heal") return "the partition heals";
    if (e.ev === "timer") return `${e.src} timer ${e.timer}`;
    return `${e.src} ${e.ev}s`;
  }
  function setCursor(k, scroll = true) {
    if (!cursorList.length) { side.innerHTML = "<p>nothing shown: loosen the filters</p>"; return; }
    cursor = Math.max(0, Math.min(cursorList.length - 1, k));
    const i = cursorList[cursor], e = byI.get(i);
    const line = $("cursorline"), y = yOf(e.t, e.i);
    line.setAttribute("y1", y); line.setAttribute("y2", y);
    svg.querySelectorAll(".cur").forEach(x => x.classList.remove("cur"));
    svg.querySelectorAll(`[data-i="${i}"]`).forEach(x => x.classList.add("cur"));
    $("pos").textContent = ` ${cursor + 1}/${cursorList.length} · t=${+e.t.toFixed(3)}`;
    if (scroll && (y < scroller.scrollTop + 40 || y > scroller.scrollTop + scroller.clientHeight - 30)) scroller.scrollTop = y - scroller.clientHeight / 3;
    const parts = [`<div class="ev" id="cur-ev" data-i="${i}">#${i} t=${+e.t.toFixed(3)}: ${esc(describe(e))}${e.warn ? ' <span class="warn">(named by the checker)</span>' : ""}</div>`];
    parts.push(`<h2>servers at this moment</h2>`);
    D.servers.forEach(pid => {
      const up = upAt(pid, i), [st, chg] = stateAt(pid, i);
      let exec = null;
      E.forEach(x => { if (x.i <= i && x.src === pid && x.ev === "execute") exec = x.state; });
      if (D.states && !up) { for (const k in st) delete st[k]; }
      if (!D.states || !("executed" in st)) { if (exec !== null || !D.states) st.executed = up ? (exec || "s^()") : "-"; }
      parts.push(`<div class="srv${conflictSrv.has(pid) ? " conf" : ""}" data-pid="${esc(pid)}"><div class="proc${up ? "" : " down"}">${esc(pid)}${up ? "" : " (crashed)"}${conflictSrv.has(pid) ? ` <span class="warn">${conflictSrv.get(pid)}</span>` : ""}</div>${stateTable(st, chg)}</div>`);
    });
    parts.push(`<h2>clients' view</h2>`);
    D.clients.forEach(c => {
      const sent = [], replies = [];
      E.forEach(x => {
        if (x.i > i) return;
        if (x.ev === "invoke" && x.src === c) sent.push(x.m);
        if (x.ev === "deliver" && x.type === "REPLY" && x.dst === c) replies.push(`<span class="${x.warn ? "warn" : ""}">${esc(x.m)}→&lt;${esc(x.state)}&gt; from ${esc(x.src)}</span>`);
      });
      const answered = new Set(E.filter(x => x.i <= i && x.ev === "deliver" && x.type === "REPLY" && x.dst === c).map(x => x.m));
      parts.push(`<div class="cli" data-pid="${esc(c)}"><div class="proc">${esc(c)}</div><table><tr><td class="k">sent</td><td>${esc(sent.join(" ") || "-")}</td></tr><tr><td class="k">answered</td><td>${esc(sent.filter(x => answered.has(x)).join(" ") || "-")}</td></tr><tr><td class="k">replies</td><td>${replies.join("<br>") || "-"}</td></tr></table></div>`);
    });
    parts.push(`<div class="help">keys: → ↓ space next event · ← ↑ previous · Home/End · + − zoom · drag to pan</div>`);
    side.innerHTML = parts.join("");
  }
  function jumpTo(pos) {
    let k = cursorList.indexOf(pos);
    if (k < 0) { k = cursorList.findIndex(i => i >= pos); if (k < 0) k = cursorList.length - 1; }
    setCursor(k);
  }
  const step = d => setCursor(cursor + d);
  $("next").onclick = () => step(1); $("prev").onclick = () => step(-1);
  $("home").onclick = () => setCursor(0); $("end").onclick = () => setCursor(cursorList.length - 1);
  const zoom = (f, anchorY) => {
    const ay = anchorY ?? scroller.clientHeight / 2, before = scroller.scrollTop + ay, frac = before / Math.max(height, 1);
    scale = Math.max(0.05, Math.min(2000, scale * f)); layout();
    scroller.scrollTop = frac * height - ay;
  };
  $("zin").onclick = () => zoom(1.5); $("zout").onclick = () => zoom(1 / 1.5);
  $("zfit").onclick = () => {   // the shown events in one screen (as far as their stacking allows)
    const ts = V.map(e => e.t), span = Math.max(Math.max(...ts) - Math.min(...ts), 1e-6);
    const stacked = [...rowBase.values()].reduce((a, b) => a + b, 0) * SUB;
    scale = Math.max(0.05, (scroller.clientHeight - 80 - stacked) / span); layout(); scroller.scrollTop = 0;
  };
  $("compress").onchange = () => layout(); $("labels").onchange = () => draw();
  document.addEventListener("keydown", ev => {
    if (ev.target.tagName === "INPUT" && ev.target.type === "text") return;
    const k = ev.key;
    if (k === "ArrowRight" || k === "ArrowDown" || (k === " " && !ev.shiftKey)) step(1);
    else if (k === "ArrowLeft" || k === "ArrowUp" || (k === " " && ev.shiftKey)) step(-1);
    else if (k === "Home") setCursor(0);
    else if (k === "End") setCursor(cursorList.length - 1);
    else if (k === "+" || k === "=") zoom(1.5);
    else if (k === "-") zoom(1 / 1.5);
    else return;
    ev.preventDefault();
  });
  scroller.addEventListener("wheel", ev => { if (ev.ctrlKey) { ev.preventDefault(); zoom(ev.deltaY < 0 ? 1.25 : 0.8, ev.clientY - scroller.getBoundingClientRect().top); } }, { passive: false });
  let drag = null;
  scroller.addEventListener("mousedown", ev => { drag = [ev.clientX, ev.clientY, scroller.scrollLeft, scroller.scrollTop]; scroller.classList.add("drag"); });
  window.addEventListener("mouseup", () => { drag = null; scroller.classList.remove("drag"); });
  window.addEventListener("mousemove", ev => { if (drag) { scroller.scrollLeft = drag[2] - (ev.clientX - drag[0]); scroller.scrollTop = drag[3] - (ev.clientY - drag[1]); } });
  svg.addEventListener("click", ev => { const t = ev.target.closest("[data-i]"); if (t) { const k = cursorList.indexOf(+t.dataset.i); if (k >= 0) setCursor(k, false); } });
  window.addEventListener("resize", () => layout());
  window.paxview = { data: D, cursorIndex: () => cursorList[cursor], jumpTo, setCursor, stateAt, layout };
  layout(false);
})();
