// Renders the statement's math with KaTeX (bundled in vendor/editor.js).
(function () {
  "use strict";
  var statement = document.getElementById("statement");
  if (statement && window.CodeBattleEditor) window.CodeBattleEditor.renderMath(statement);
})();
