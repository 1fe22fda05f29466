/*
 * Vivolog measurement grid: keyboard-first entry for USB calipers, balances and tag scanners.
 * Plain ES2020, no dependencies, no build step; load with
 *   <script src="{% static 'js/grid.js' %}" defer></script>
 * Nothing inline: everything is switched on by data attributes on server-rendered markup.
 * The full contract (and the JSON the endpoint receives and answers) is labnotes/capture/GRID.md.
 *
 * Markup contract, in short:
 *   <meta name="csrf-token" content="...">                      CSRF token, sent as X-CSRFToken
 *   [data-grid]                                                  one grid
 *     data-save-url="/..."                                       POST target, one cell per request
 *     data-operator-id="17"                                      the signed-in user's id
 *     data-order="row" | "column"                                what Enter moves to (row: default)
 *     data-tag-prefix / data-tag-suffix / data-tag-pattern        scanned-tag recognition
 *     data-storage-key="run-12-day-14"                           scope of unsent cells (default: path)
 *     data-columns="length width weight"                         column order (default: first seen)
 *     data-retry-base-ms="1000"  data-retry-max-ms="30000"       failed-save backoff
 *     data-correction-reasons='[["1","typo","Typo"], ...]'       one-key reasons (key, code, label)
 *   [data-animal="<animal id>"][data-tag="<ear tag>"]            an animal's rows (e.g. a <tbody>)
 *     [data-tumour="<tumour id>"]                                a tumour's row (e.g. a <tr>)
 *       .grid-entry[data-cell][data-field="length|width|height|weight"]
 *         <input>  and  .grid-entry__status                     the value and its state in words
 *     a weight cell belongs to the animal; data-tumour on the cell itself also works.
 *   A cell rendered with a value and data-client-id is a reading saved earlier.
 *   [data-grid-live], [data-grid-message]                        optional; created when absent
 *   [data-volume] in a tumour's row                              filled with an answer's volume_mm3
 *
 * Behaviour: Enter saves the cell and moves on in data-order (never submits a form); Tab,
 * Shift+Tab and arrows move; a scanned tag jumps to its animal, an unknown tag warns and keeps
 * focus. Each cell saves on its own (fetch POST, JSON, Idempotency-Key = the reading's UUID),
 * shows pending → saving → saved | failed, retries failures with backoff, and keeps unsent
 * readings in localStorage under the operator's id until the server confirms them. Each
 * change of state is also dispatched as a "vivolog:grid-cell-state" event (detail: key, state,
 * text, clientId) for pages and tests to follow.
 */
(function () {
  "use strict";

  const STORAGE_PREFIX = "vivolog.grid.v1";
  const STATES = ["pending", "saving", "saved", "failed"];
  const AXIS_FIELDS = new Set(["length", "width", "height"]);
  const FIELD_LABELS = { length: "length", width: "width", height: "height", weight: "weight" };
  const DEFAULT_REASONS = [
    ["1", "typo", "Typo"],
    ["2", "re-measured", "Re-measured"],
    ["3", "wrong-animal", "Wrong animal"],
  ];

  /* --- Small helpers --------------------------------------------------------------------- */

  function newClientId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    // randomUUID needs a secure context; getRandomValues does not (plain-http intranets).
    const bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") || "" : "";
  }

  function storageAvailable() {
    try {
      const probe = `${STORAGE_PREFIX}:probe`;
      window.localStorage.setItem(probe, "1");
      window.localStorage.removeItem(probe);
      return true;
    } catch (error) {
      return false;
    }
  }

  /* --- Unsent readings in localStorage, one key per grid scope and operator --------------- */

  class Store {
    constructor(scope, operatorId) {
      this.scope = scope;
      this.operatorId = operatorId;
      this.enabled = storageAvailable();
    }

    key(operatorId) {
      return `${STORAGE_PREFIX}:${this.scope}:${operatorId}`;
    }

    read(operatorId) {
      if (!this.enabled) {
        return {};
      }
      try {
        const parsed = JSON.parse(window.localStorage.getItem(this.key(operatorId)) || "{}");
        return parsed && typeof parsed === "object" ? parsed : {};
      } catch (error) {
        return {};
      }
    }

    write(records) {
      if (!this.enabled) {
        return;
      }
      const key = this.key(this.operatorId);
      if (Object.keys(records).length === 0) {
        window.localStorage.removeItem(key);
      } else {
        window.localStorage.setItem(key, JSON.stringify(records));
      }
    }

    put(record) {
      const records = this.read(this.operatorId);
      records[record.client_id] = record;
      this.write(records);
    }

    remove(clientId) {
      const records = this.read(this.operatorId);
      if (clientId in records) {
        delete records[clientId];
        this.write(records);
      }
    }

    /* Every operator's records for this grid: [[operatorId, record], ...], oldest first. */
    all() {
      if (!this.enabled) {
        return [];
      }
      const prefix = `${STORAGE_PREFIX}:${this.scope}:`;
      const found = [];
      for (let i = 0; i < window.localStorage.length; i += 1) {
        const key = window.localStorage.key(i);
        if (key && key.startsWith(prefix)) {
          const operatorId = key.slice(prefix.length);
          Object.values(this.read(operatorId)).forEach((record) => found.push([operatorId, record]));
        }
      }
      found.sort((a, b) => String(a[1].taken_at).localeCompare(String(b[1].taken_at)));
      return found;
    }
  }

  /* --- The correction-reason dialog (one per page) ---------------------------------------- */

  function reasonDialog() {
    let dialog = document.getElementById("grid-reason-dialog");
    if (dialog) {
      return dialog;
    }
    dialog = document.createElement("dialog");
    dialog.id = "grid-reason-dialog";
    dialog.className = "dialog grid-reason-dialog";
    dialog.setAttribute("aria-labelledby", "grid-reason-title");
    dialog.setAttribute("aria-describedby", "grid-reason-description");
    dialog.innerHTML = `
      <form method="dialog">
        <div class="dialog__header"><h2 class="dialog__title" id="grid-reason-title">Reason for the correction</h2></div>
        <div class="dialog__body">
          <p id="grid-reason-description" data-reason-description></p>
          <div data-reason-keys><ul class="grid-reason-list" data-reason-list></ul></div>
          <div data-reason-typed class="field">
            <label for="grid-reason-text">Reason</label>
            <input type="text" id="grid-reason-text" autocomplete="off" required>
          </div>
        </div>
        <div class="dialog__footer">
          <button type="submit" class="button button--secondary" value="cancel" formnovalidate>Cancel</button>
          <div data-reason-typed-submit><button type="submit" class="button" value="typed">Save correction</button></div>
        </div>
      </form>`;
    document.body.appendChild(dialog);
    return dialog;
  }

  /*
   * Ask why a saved value is being changed. mode "key": the reasons as buttons, a digit picks
   * one; mode "typed": a required text. Resolves to the reason code/text, or null (cancelled).
   */
  function askReason(reasons, mode, description) {
    const dialog = reasonDialog();
    const list = dialog.querySelector("[data-reason-list]");
    const typedInput = dialog.querySelector("#grid-reason-text");
    list.textContent = "";
    reasons.forEach(([key, code, label]) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "submit";
      button.className = "button button--secondary";
      button.value = `reason:${code}`;
      const kbd = document.createElement("kbd");
      kbd.textContent = key;
      button.append(kbd, ` ${label}`);
      item.appendChild(button);
      list.appendChild(item);
    });
    dialog.querySelector("[data-reason-keys]").hidden = mode !== "key";
    dialog.querySelector("[data-reason-typed]").hidden = mode !== "typed";
    dialog.querySelector("[data-reason-typed-submit]").hidden = mode !== "typed";
    typedInput.required = mode === "typed";
    typedInput.value = "";
    dialog.querySelector("[data-reason-description]").textContent =
      mode === "key"
        ? `${description} Press ${reasons.map((r) => `${r[0]} for ${r[2].toLowerCase()}`).join(", ")}; Esc cancels.`
        : `${description} Type the reason; Esc cancels.`;

    return new Promise((resolve) => {
      const onKey = (event) => {
        if (mode !== "key" || event.ctrlKey || event.metaKey || event.altKey) {
          return;
        }
        const chosen = reasons.find((r) => r[0] === event.key);
        if (chosen) {
          event.preventDefault();
          dialog.close(`reason:${chosen[1]}`);
        }
      };
      dialog.addEventListener("keydown", onKey);
      dialog.addEventListener(
        "close",
        () => {
          dialog.removeEventListener("keydown", onKey);
          const value = dialog.returnValue || "";
          if (value.startsWith("reason:")) {
            resolve(value.slice("reason:".length));
          } else if (value === "typed" && typedInput.value.trim()) {
            resolve(typedInput.value.trim());
          } else {
            resolve(null);
          }
        },
        { once: true }
      );
      dialog.returnValue = "";
      dialog.showModal();
      if (mode === "typed") {
        typedInput.focus();
      } else {
        const first = list.querySelector("button");
        if (first) {
          first.focus();
        }
      }
    });
  }

  /* --- One grid ---------------------------------------------------------------------------- */

  class Grid {
    constructor(root) {
      this.root = root;
      const data = root.dataset;
      this.saveUrl = data.saveUrl;
      this.operatorId = data.operatorId || "";
      this.order = data.order === "column" ? "column" : "row";
      this.tagPrefix = data.tagPrefix || "";
      this.tagSuffix = data.tagSuffix || "";
      this.tagPattern = data.tagPattern ? new RegExp(`^(?:${data.tagPattern})$`) : null;
      this.retryBaseMs = Number(data.retryBaseMs) || 1000;
      this.retryMaxMs = Number(data.retryMaxMs) || 30000;
      this.reasons = this.parseReasons(data.correctionReasons);
      this.store = new Store(data.storageKey || window.location.pathname, this.operatorId);

      this.live = this.region("[data-grid-live]", () => {
        const element = document.createElement("div");
        element.className = "visually-hidden";
        element.setAttribute("aria-live", "polite");
        return element;
      });
      this.message = this.region("[data-grid-message]", () => {
        const element = document.createElement("div");
        element.className = "alert alert--warning";
        element.setAttribute("role", "alert");
        element.hidden = true;
        element.innerHTML = '<div class="alert__body"><p data-grid-message-text></p></div>';
        return element;
      });

      this.cells = [];
      this.byInput = new WeakMap();
      this.byKey = new Map();
      this.animalsByTag = new Map();
      this.collectCells();
      this.sequence = this.orderCells();

      root.addEventListener("keydown", (event) => this.onKeydown(event));
      root.addEventListener("change", (event) => {
        const cell = this.byInput.get(event.target);
        if (cell && !cell.busyWithDialog) {
          this.commit(cell, null);
        }
      });
      window.addEventListener("online", () => this.retryNow());
      this.restore();
    }

    parseReasons(text) {
      if (!text) {
        return DEFAULT_REASONS;
      }
      try {
        const parsed = JSON.parse(text);
        if (Array.isArray(parsed) && parsed.every((r) => Array.isArray(r) && r.length === 3)) {
          return parsed.map((r) => r.map(String));
        }
      } catch (error) {
        /* fall through to the defaults */
      }
      return DEFAULT_REASONS;
    }

    region(selector, create) {
      let element = this.root.querySelector(selector);
      if (!element) {
        element = create();
        element.setAttribute(selector.slice(1, -1), "");
        this.root.prepend(element);
      }
      return element;
    }

    collectCells() {
      this.root.querySelectorAll("[data-cell]").forEach((element) => {
        const input = element.querySelector("input");
        const animalElement = element.closest("[data-animal]");
        if (!input || !animalElement) {
          return;
        }
        const field = element.dataset.field || "";
        let tumour = "";
        if (AXIS_FIELDS.has(field)) {
          const tumourElement = element.closest("[data-tumour]");
          tumour = tumourElement ? tumourElement.dataset.tumour : "";
        }
        const animal = animalElement.dataset.animal;
        const cell = {
          element,
          input,
          status: element.querySelector(".grid-entry__status"),
          animalElement,
          animal,
          tag: animalElement.dataset.tag || animal,
          tumour,
          field,
          key: `${animal}/${tumour}/${field}`,
          committedRaw: input.value.trim(),
          confirmedRaw: input.value.trim(),
          clientId: element.dataset.clientId || "",
          lastClientId: element.dataset.clientId || "",
          savedInSession: false,
          queue: [],
          sending: false,
          repeatOf: "",
          retryTimer: 0,
          attempts: 0,
        };
        if (!cell.clientId) {
          cell.confirmedRaw = "";
        }
        this.cells.push(cell);
        this.byInput.set(input, cell);
        this.byKey.set(cell.key, cell);
        if (animalElement.dataset.tag && !this.animalsByTag.has(animalElement.dataset.tag)) {
          this.animalsByTag.set(animalElement.dataset.tag, animalElement);
        }
      });
    }

    /* The Enter sequence: row = each animal's tumours (their axes), then its weight; column =
       each column across all animals. */
    orderCells() {
      const columns = (this.root.dataset.columns || "").split(/\s+/).filter(Boolean);
      this.cells.forEach((cell) => {
        if (!columns.includes(cell.field)) {
          columns.push(cell.field);
        }
      });
      const animals = [];
      const groups = new Map();
      this.cells.forEach((cell) => {
        if (!groups.has(cell.animalElement)) {
          groups.set(cell.animalElement, { tumours: new Map(), other: [] });
          animals.push(cell.animalElement);
        }
        const group = groups.get(cell.animalElement);
        if (cell.tumour) {
          if (!group.tumours.has(cell.tumour)) {
            group.tumours.set(cell.tumour, []);
          }
          group.tumours.get(cell.tumour).push(cell);
        } else {
          group.other.push(cell);
        }
      });
      const byColumn = (a, b) => columns.indexOf(a.field) - columns.indexOf(b.field);
      // Rows of the grid as the eye reads them: each tumour, then the animal's other cells.
      this.rows = [];
      animals.forEach((animal) => {
        const group = groups.get(animal);
        group.tumours.forEach((cells) => this.rows.push(cells.slice().sort(byColumn)));
        if (group.other.length) {
          this.rows.push(group.other.slice().sort(byColumn));
        }
      });
      if (this.order === "row") {
        return this.rows.flat();
      }
      const sequence = [];
      columns.forEach((column) => {
        this.rows.forEach((row) => row.filter((c) => c.field === column).forEach((c) => sequence.push(c)));
      });
      return sequence;
    }

    /* --- Keys --- */

    onKeydown(event) {
      const cell = this.byInput.get(event.target);
      if (!cell || event.isComposing || event.ctrlKey || event.metaKey || event.altKey) {
        return;
      }
      if (event.key === "Enter") {
        // Never let Enter reach a surrounding form: a wedge ends every reading with it.
        event.preventDefault();
        this.onEnter(cell, event.shiftKey ? -1 : 1);
        return;
      }
      if (event.key === "Tab") {
        const target = this.step(cell, event.shiftKey ? -1 : 1);
        if (target) {
          event.preventDefault();
          this.commit(cell, () => this.focusCell(target));
        }
        return; // at either end Tab leaves the grid as usual; "change" saves the cell
      }
      const input = cell.input;
      const atStart = input.selectionStart === 0 && input.selectionEnd === 0;
      const atEnd = input.selectionStart === input.value.length;
      let target = null;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        target = this.vertical(cell, event.key === "ArrowDown" ? 1 : -1);
      } else if (event.key === "ArrowLeft" && atStart) {
        target = this.horizontal(cell, -1);
      } else if (event.key === "ArrowRight" && atEnd) {
        target = this.horizontal(cell, 1);
      }
      if (target) {
        event.preventDefault();
        this.commit(cell, () => this.focusCell(target));
      }
    }

    step(cell, direction) {
      const index = this.sequence.indexOf(cell);
      return this.sequence[index + direction] || null;
    }

    vertical(cell, direction) {
      const same = this.rows.flat().filter((c) => c.field === cell.field);
      return same[same.indexOf(cell) + direction] || null;
    }

    horizontal(cell, direction) {
      const flat = this.rows.flat();
      return flat[flat.indexOf(cell) + direction] || null;
    }

    focusCell(cell) {
      cell.input.focus();
      cell.input.select();
    }

    onEnter(cell, direction) {
      const raw = cell.input.value.trim();
      const tag = this.tagOf(raw);
      if (tag !== null) {
        cell.input.value = cell.committedRaw;
        this.jumpToTag(cell, tag);
        return;
      }
      const move = () => {
        const next = this.step(cell, direction);
        if (next) {
          this.focusCell(next);
        } else {
          this.announce("End of the grid.");
        }
      };
      if (raw === "" && cell.committedRaw !== "") {
        cell.input.value = cell.committedRaw;
        this.setState(cell, cell.state || "saved", "A saved value is not cleared: type the corrected value instead.");
      }
      this.commit(cell, move);
    }

    /* Same rule as labnotes.capture.parsing.scanned_tag: strip prefix and suffix, the pattern
       must match the whole rest, the tag is its first group (or the rest). */
    tagOf(raw) {
      if (!this.tagPrefix && !this.tagSuffix && !this.tagPattern) {
        return null;
      }
      let text = raw;
      if (this.tagPrefix) {
        if (!text.startsWith(this.tagPrefix)) {
          return null;
        }
        text = text.slice(this.tagPrefix.length);
      }
      if (this.tagSuffix) {
        if (!text.endsWith(this.tagSuffix)) {
          return null;
        }
        text = text.slice(0, text.length - this.tagSuffix.length);
      }
      if (!text) {
        return null;
      }
      if (!this.tagPattern) {
        return text;
      }
      const match = this.tagPattern.exec(text);
      if (!match) {
        return null;
      }
      return match.length > 1 && match[1] ? match[1] : text;
    }

    jumpToTag(cell, tag) {
      const animal = this.animalsByTag.get(tag);
      if (!animal) {
        this.warn(`Tag ${tag} is not in this grid: check the animal. The cursor stayed where it was.`);
        this.focusCell(cell);
        return;
      }
      this.clearWarning();
      const cells = this.sequence.filter((c) => c.animalElement === animal);
      const target =
        (this.order === "column" && cells.find((c) => c.field === cell.field)) || cells[0];
      if (target) {
        this.focusCell(target);
        this.announce(`Animal ${tag}.`);
      }
    }

    warn(text) {
      this.message.querySelector("[data-grid-message-text]").textContent = text;
      this.message.hidden = false;
    }

    clearWarning() {
      this.message.hidden = true;
    }

    announce(text) {
      this.live.textContent = text;
    }

    label(cell) {
      const tumourPart = cell.tumour && this.cellsOfAnimalTumours(cell) > 1 ? ` tumour ${cell.tumour}` : "";
      return `${cell.tag}${tumourPart} ${FIELD_LABELS[cell.field] || cell.field}`;
    }

    cellsOfAnimalTumours(cell) {
      const tumours = new Set();
      this.cells.forEach((c) => {
        if (c.animalElement === cell.animalElement && c.tumour) {
          tumours.add(c.tumour);
        }
      });
      return tumours.size;
    }

    /* --- Saving --- */

    /* Save the cell if its value changed, asking for a reason first when it corrects a saved
       value; run then() once the value is on its way (or nothing needed saving). */
    commit(cell, then) {
      const raw = cell.input.value.trim();
      const proceed = () => {
        if (then) {
          then();
        }
      };
      if (raw === "" || (raw === cell.committedRaw && !cell.repeatOf)) {
        proceed();
        return;
      }
      if (cell.repeatOf) {
        const repeatOf = cell.repeatOf;
        cell.repeatOf = "";
        delete cell.element.dataset.repeat;
        this.save(cell, raw, { repeat_of: repeatOf });
        proceed();
        return;
      }
      if (cell.confirmedRaw || cell.queue.length || cell.sending) {
        const mode = cell.savedInSession || cell.queue.length || cell.sending ? "key" : "typed";
        const previous = cell.committedRaw || cell.confirmedRaw;
        cell.busyWithDialog = true;
        askReason(this.reasons, mode, `${this.label(cell)}: ${previous} → ${raw}.`).then((reason) => {
          cell.busyWithDialog = false;
          if (reason === null) {
            cell.input.value = cell.committedRaw;
            this.focusCell(cell);
            return;
          }
          this.save(cell, raw, { correction_of: cell.lastClientId || null, reason });
          proceed();
        });
        return;
      }
      this.save(cell, raw, {});
      proceed();
    }

    save(cell, raw, extra) {
      const record = {
        client_id: newClientId(),
        cell: cell.key,
        animal: cell.animal,
        tumour: cell.tumour || null,
        field: cell.field,
        raw,
        taken_at: new Date().toISOString(),
        operator: this.operatorId,
        correction_of: extra.correction_of || null,
        reason: extra.reason || null,
        repeat_of: extra.repeat_of || null,
      };
      cell.committedRaw = raw;
      cell.lastClientId = record.client_id;
      this.store.put(record);
      this.enqueue(cell, record, "Pending");
    }

    enqueue(cell, record, text) {
      cell.queue.push(record);
      this.setState(cell, "pending", text, record.client_id);
      if (!cell.sending) {
        this.sendNext(cell);
      }
    }

    sendNext(cell) {
      const record = cell.queue[0];
      if (!record) {
        cell.sending = false;
        return;
      }
      cell.sending = true;
      this.setState(cell, "saving", "Saving…", record.client_id);
      const body = Object.assign({}, record);
      delete body.cell;
      fetch(this.saveUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": csrfToken(),
          "Idempotency-Key": record.client_id,
        },
        body: JSON.stringify(body),
      })
        .then((response) =>
          response
            .json()
            .catch(() => ({}))
            .then((data) => this.answered(cell, record, response.status, data || {}))
        )
        .catch(() => this.retry(cell, record, "no connection"));
    }

    answered(cell, record, status, data) {
      if (status >= 200 && status < 300) {
        this.confirmed(cell, record, data);
      } else if (status >= 500 || status === 408 || status === 429) {
        this.retry(cell, record, `server error ${status}`);
      } else {
        this.refused(cell, record, data.error || data.detail || `refused by the server (${status})`);
      }
    }

    finish(cell, record) {
      this.store.remove(record.client_id);
      cell.queue.shift();
      cell.attempts = 0;
      cell.sending = false;
      if (cell.queue.length) {
        this.sendNext(cell);
      }
    }

    confirmed(cell, record, data) {
      cell.clientId = record.client_id;
      cell.element.dataset.clientId = record.client_id;
      cell.savedInSession = true;
      let shown = record.raw;
      if (typeof data.display === "string" && data.display && cell.input.value.trim() === record.raw) {
        cell.input.value = data.display;
        shown = data.display;
      }
      cell.confirmedRaw = shown;
      if (cell.committedRaw === record.raw) {
        cell.committedRaw = shown;
      }
      cell.input.removeAttribute("aria-invalid");
      this.showVolume(cell, data);
      this.showFlag(cell, data);
      this.finish(cell, record);
      if (cell.queue.length) {
        return;
      }
      const label = this.label(cell);
      if (data.needs_repeat) {
        cell.repeatOf = record.client_id;
        cell.element.dataset.repeat = "true";
        const why = data.warning ? ` ${data.warning}` : "";
        this.setState(cell, "saved", `Saved. Measure again now.${why}`, record.client_id);
        this.warn(`${label}: measure again now.${why}`);
        const active = this.byInput.get(document.activeElement);
        if (!active || active === cell || active.input.value.trim() === "") {
          // Only when nothing is being typed elsewhere: a wedge reading must never land here.
          cell.input.value = "";
          this.focusCell(cell);
        }
        return;
      }
      if (data.warning) {
        this.setState(cell, "saved", `Saved. Warning: ${data.warning}`, record.client_id);
        this.warn(`${label}: ${data.warning}`);
        return;
      }
      const note = data.message ? ` ${data.message}` : "";
      this.setState(cell, "saved", `Saved${note ? "." + note : ""}`, record.client_id);
      this.announce(`${label} ${shown} saved.`);
    }

    /* An unqualified instrument (issue 11): the answer's instrument_flag shows in the cell as
       an icon and words ([data-grid-flag]), and is announced; a later clean value removes it. */
    showFlag(cell, data) {
      let flag = cell.element.querySelector("[data-grid-flag]");
      if (typeof data.instrument_flag !== "string" || !data.instrument_flag) {
        if (flag) {
          flag.remove();
        }
        return;
      }
      if (!flag) {
        flag = document.createElement("span");
        flag.className = "grid-entry__flag";
        flag.dataset.gridFlag = "";
        cell.element.appendChild(flag);
      }
      flag.textContent = "";
      const icon = document.createElement("span");
      icon.setAttribute("aria-hidden", "true");
      icon.textContent = "\u2691 ";
      flag.appendChild(icon);
      flag.appendChild(document.createTextNode(`Flagged: ${data.instrument_flag}`));
      this.announce(`${this.label(cell)}: flagged. ${data.instrument_flag}`);
    }

    /* The row's live volume: an answer with volume_mm3 fills the tumour row's [data-volume]. */
    showVolume(cell, data) {
      if (typeof data.volume_mm3 !== "string" || !cell.tumour) {
        return;
      }
      const row = cell.element.closest("[data-tumour]");
      const target = row ? row.querySelector("[data-volume]") : null;
      if (target) {
        target.textContent = data.volume_mm3;
      }
    }

    refused(cell, record, message) {
      this.finish(cell, record);
      if (cell.committedRaw === record.raw) {
        cell.committedRaw = cell.confirmedRaw;
      }
      cell.input.setAttribute("aria-invalid", "true");
      this.setState(cell, "failed", `Not saved: ${message}`, record.client_id);
      this.announce(`${this.label(cell)} not saved: ${message}`);
    }

    retry(cell, record, why) {
      cell.attempts += 1;
      const delay = Math.min(this.retryBaseMs * 2 ** (cell.attempts - 1), this.retryMaxMs);
      const jittered = Math.round(delay * (0.8 + Math.random() * 0.4));
      const seconds = Math.max(1, Math.round(jittered / 1000));
      this.setState(cell, "failed", `Not saved (${why}): retrying in ${seconds} s`, record.client_id);
      window.clearTimeout(cell.retryTimer);
      cell.retryTimer = window.setTimeout(() => this.sendNext(cell), jittered);
    }

    retryNow() {
      this.cells.forEach((cell) => {
        if (cell.retryTimer && cell.queue.length && cell.state === "failed") {
          window.clearTimeout(cell.retryTimer);
          cell.retryTimer = 0;
          this.sendNext(cell);
        }
      });
    }

    setState(cell, state, text, clientId) {
      cell.state = state;
      STATES.forEach((name) => cell.element.classList.toggle(`is-${name}`, name === state));
      if (cell.status) {
        cell.status.textContent = text;
      }
      cell.element.dispatchEvent(
        new CustomEvent("vivolog:grid-cell-state", {
          bubbles: true,
          detail: { key: cell.key, state, text, clientId: clientId || cell.clientId },
        })
      );
    }

    /* --- Unsent readings from an earlier page --- */

    restore() {
      const refused = [];
      this.store.all().forEach(([operatorId, record]) => {
        const cell = this.byKey.get(record.cell);
        if (!cell) {
          return; // the animal left the grid; the reading stays stored for its own page
        }
        if (operatorId !== this.operatorId) {
          refused.push(record);
          this.setState(
            cell,
            "failed",
            `Not sent: ${record.raw} was typed in this browser by another user (operator ${operatorId}). ` +
              "It stays here until they log in again.",
            record.client_id
          );
          return;
        }
        cell.input.value = record.raw;
        cell.committedRaw = record.raw;
        cell.queue.push(record);
        this.setState(cell, "pending", "Pending: restored from this browser", record.client_id);
      });
      if (refused.length) {
        this.warn(
          `${refused.length} reading(s) typed here by another user were not sent: ` +
            "they stay in this browser until that user logs in again."
        );
      }
      // Sent on the next turn so the pending state is shown (and announced) before saving.
      window.setTimeout(() => {
        this.cells.forEach((cell) => {
          if (cell.queue.length && !cell.sending) {
            this.sendNext(cell);
          }
        });
      }, 0);
    }
  }

  function start(scope) {
    (scope || document).querySelectorAll("[data-grid]").forEach((root) => {
      if (root.dataset.gridReady === "true" || !root.dataset.saveUrl) {
        return;
      }
      root.dataset.gridReady = "true";
      new Grid(root);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => start(document));
  } else {
    start(document);
  }
  // Grids that htmx swaps in later.
  document.addEventListener("htmx:load", (event) => start(event.target));
})();
