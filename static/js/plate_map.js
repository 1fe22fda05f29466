/* Plate map editor for ELISA plates (labnotes/elisa_plate_detail.html).
 *
 * Selection: click a well (Ctrl/Cmd-click toggles), drag across wells (a rectangle), or the
 * keyboard (roving tabindex: arrows move, Space toggles, Shift+arrows extend, Ctrl+A all, Esc
 * clears). "Apply to selected" writes the role, concentration (optionally a serial dilution down
 * the rows), sample, dilution and replicate group to every selected well; "Save plate map" posts
 * the whole map as JSON. The server validates everything again (the page only helps).
 */
(function () {
  "use strict";

  var table = document.getElementById("plate-map");
  var dataNode = document.getElementById("plate-map-data");
  if (!table || !dataNode) {
    return;
  }
  var editor = table.closest(".plate-editor");
  var editable = editor && editor.getAttribute("data-editable") === "true";
  var ROWS = "ABCDEFGH";
  var wells = {};
  JSON.parse(dataNode.textContent || "[]").forEach(function (item) {
    wells[item.well] = item;
  });
  var cells = Array.prototype.slice.call(table.querySelectorAll("td[data-well]"));
  var byName = {};
  cells.forEach(function (cell) {
    byName[cell.getAttribute("data-well")] = cell;
  });
  var selected = {};
  var anchor = "A1";
  var focusName = "A1";

  function position(name) {
    return { row: ROWS.indexOf(name.charAt(0)), column: parseInt(name.slice(1), 10) };
  }

  function nameAt(row, column) {
    return ROWS.charAt(row) + String(column);
  }

  function describe(item) {
    if (!item || item.role === "empty") {
      return "";
    }
    var text;
    if (item.role === "standard") {
      text = "S " + formatNumber(item.concentration_pg_per_ml);
    } else if (item.role === "blank") {
      text = "Blank";
    } else {
      text = (item.sample || "?") + (Number(item.dilution) > 1 ? " 1:" + formatNumber(item.dilution) : "");
    }
    if (item.od_flag) {
      text += " · " + item.od_flag;
    } else if (item.od !== null && item.od !== undefined) {
      text += " · " + Number(item.od).toFixed(3);
    }
    return text;
  }

  function formatNumber(value) {
    var number = Number(value);
    if (!isFinite(number)) {
      return String(value);
    }
    return String(Math.round(number * 1000) / 1000);
  }

  function render(name) {
    var cell = byName[name];
    var item = wells[name];
    var role = item ? item.role : "empty";
    cell.className = "plate-well plate-well--" + role + (item && item.od_flag ? " plate-well--flag" : "");
    cell.querySelector(".plate-well__text").textContent = describe(item);
    cell.setAttribute("aria-selected", selected[name] ? "true" : "false");
  }

  function renderAll() {
    cells.forEach(function (cell) {
      render(cell.getAttribute("data-well"));
    });
    var count = Object.keys(selected).length;
    var counter = document.getElementById("plate-selection-count");
    if (counter) {
      counter.textContent = count ? count + " well" + (count === 1 ? "" : "s") + " selected." : "No wells selected.";
    }
  }

  renderAll();
  if (!editable) {
    return;
  }

  function clearSelection() {
    selected = {};
  }

  function selectRectangle(from, to) {
    var a = position(from);
    var b = position(to);
    for (var row = Math.min(a.row, b.row); row <= Math.max(a.row, b.row); row += 1) {
      for (var column = Math.min(a.column, b.column); column <= Math.max(a.column, b.column); column += 1) {
        selected[nameAt(row, column)] = true;
      }
    }
  }

  function focusWell(name) {
    var previous = byName[focusName];
    if (previous) {
      previous.setAttribute("tabindex", "-1");
    }
    focusName = name;
    byName[name].setAttribute("tabindex", "0");
    byName[name].focus();
  }

  var dragging = false;
  var dragBase = {};
  table.addEventListener("mousedown", function (event) {
    var cell = event.target.closest("td[data-well]");
    if (!cell || event.button !== 0) {
      return;
    }
    event.preventDefault();
    var name = cell.getAttribute("data-well");
    var additive = event.ctrlKey || event.metaKey;
    if (!additive) {
      clearSelection();
    }
    if (additive && selected[name]) {
      delete selected[name];
      dragging = false;
    } else {
      dragging = true;
      dragBase = Object.assign({}, selected);
      selected[name] = true;
    }
    anchor = name;
    focusWell(name);
    renderAll();
  });
  table.addEventListener("mouseover", function (event) {
    if (!dragging) {
      return;
    }
    var cell = event.target.closest("td[data-well]");
    if (!cell) {
      return;
    }
    selected = Object.assign({}, dragBase);
    selectRectangle(anchor, cell.getAttribute("data-well"));
    renderAll();
  });
  document.addEventListener("mouseup", function () {
    dragging = false;
  });

  table.addEventListener("keydown", function (event) {
    var cell = event.target.closest("td[data-well]");
    if (!cell) {
      return;
    }
    var here = position(cell.getAttribute("data-well"));
    var moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    if (moves[event.key]) {
      event.preventDefault();
      var row = Math.max(0, Math.min(7, here.row + moves[event.key][0]));
      var column = Math.max(1, Math.min(12, here.column + moves[event.key][1]));
      var target = nameAt(row, column);
      if (event.shiftKey) {
        clearSelection();
        selectRectangle(anchor, target);
      } else {
        anchor = target;
      }
      focusWell(target);
      renderAll();
    } else if (event.key === " " || event.key === "Spacebar") {
      event.preventDefault();
      var name = cell.getAttribute("data-well");
      if (selected[name]) {
        delete selected[name];
      } else {
        selected[name] = true;
      }
      anchor = name;
      renderAll();
    } else if ((event.ctrlKey || event.metaKey) && (event.key === "a" || event.key === "A")) {
      event.preventDefault();
      cells.forEach(function (c) {
        selected[c.getAttribute("data-well")] = true;
      });
      renderAll();
    } else if (event.key === "Escape") {
      clearSelection();
      renderAll();
    }
  });

  function value(id) {
    var node = document.getElementById(id);
    return node ? node.value.trim() : "";
  }

  document.getElementById("pm-apply").addEventListener("click", function () {
    var names = Object.keys(selected);
    if (!names.length) {
      return;
    }
    var role = value("pm-role");
    var concentration = value("pm-concentration");
    var series = Number(value("pm-series"));
    var top = Math.min.apply(null, names.map(function (n) { return position(n).row; }));
    names.forEach(function (name) {
      if (role === "empty") {
        delete wells[name];
        return;
      }
      var item = { well: name, role: role, concentration_pg_per_ml: null, sample: "", dilution: 1, replicate_group: value("pm-group"), od: null, od_flag: "" };
      if (role === "standard") {
        var level = Number(concentration);
        if (series > 1 && concentration !== "") {
          level = level / Math.pow(series, position(name).row - top);
        }
        item.concentration_pg_per_ml = concentration === "" ? null : level;
      }
      if (role === "sample") {
        item.sample = value("pm-sample");
        item.dilution = Number(value("pm-dilution") || "1");
      }
      wells[name] = item;
    });
    renderAll();
  });

  document.getElementById("pm-clear").addEventListener("click", function () {
    Object.keys(selected).forEach(function (name) {
      delete wells[name];
    });
    renderAll();
  });

  document.getElementById("plate-layout-form").addEventListener("submit", function () {
    var layout = Object.keys(wells).map(function (name) {
      var item = wells[name];
      return {
        well: item.well,
        role: item.role,
        concentration_pg_per_ml: item.concentration_pg_per_ml,
        sample: item.sample,
        dilution: item.dilution,
        replicate_group: item.replicate_group
      };
    });
    document.getElementById("pm-layout").value = JSON.stringify(layout);
  });
})();
