(function () {
  "use strict";
  var table = document.getElementById("results");
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.querySelectorAll("tr[data-compliance]"));
  var text = document.getElementById("filter-text");
  var compliance = document.getElementById("filter-compliance");
  var rule = document.getElementById("filter-rule");
  var count = document.getElementById("visible-count");
  function apply() {
    var query = text.value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (row) {
      var visible = (!compliance.value || row.getAttribute("data-compliance") === compliance.value) &&
        (!rule.value || row.getAttribute("data-rule") === rule.value) &&
        (!query || row.textContent.toLowerCase().indexOf(query) !== -1);
      row.hidden = !visible;
      if (visible) { shown += 1; }
    });
    count.textContent = String(shown);
    count.setAttribute("data-value", String(shown));
  }
  function natural(a, b) {
    // Case-insensitive, with runs of digits compared as numbers ("call-2" before "call-10").
    var x = a.toLowerCase().match(/\d+|\D+/g) || [];
    var y = b.toLowerCase().match(/\d+|\D+/g) || [];
    for (var i = 0; i < Math.min(x.length, y.length); i += 1) {
      var p = x[i], q = y[i];
      if (/^\d/.test(p) && /^\d/.test(q)) {
        p = p.replace(/^0+(?=\d)/, ""); q = q.replace(/^0+(?=\d)/, "");
        if (p.length !== q.length) { return p.length - q.length; }
      }
      if (p !== q) { return p < q ? -1 : 1; }
    }
    return x.length - y.length;
  }
  function key(row, column) {
    var cell = row.cells[column];
    return cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
  }
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var current = -1;
  var ascending = true;
  headers.forEach(function (header, column) {
    var button = header.querySelector("button");
    if (!button) { return; }
    button.addEventListener("click", function () {
      ascending = current === column ? !ascending : true;
      current = column;
      var sorted = rows.slice().sort(function (a, b) {
        var order = natural(key(a, column), key(b, column));
        return ascending ? order : -order;
      });
      headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
      header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      sorted.forEach(function (row) { body.appendChild(row); });
      rows = sorted;
    });
  });
  text.addEventListener("input", apply);
  compliance.addEventListener("change", apply);
  rule.addEventListener("change", apply);
  apply();
  document.documentElement.setAttribute("data-ready", "true");
}());
