// Browser entry point of the vendored bundle: a CodeMirror 6 editor and KaTeX
// math rendering, exposed as the global `window.CodeBattleEditor`.
//
// Built by scripts/build-frontend.sh into
// src/codebattle/web/static/vendor/editor.js (a minified IIFE). The web app
// only serves the built file; it never runs Node.js.

import { basicSetup } from "codemirror";
import { Compartment, EditorState, Prec } from "@codemirror/state";
import { EditorView, keymap } from "@codemirror/view";
import { indentWithTab } from "@codemirror/commands";
import { indentUnit } from "@codemirror/language";
import { python } from "@codemirror/lang-python";
import { cpp } from "@codemirror/lang-cpp";
import { java } from "@codemirror/lang-java";
import { oneDark } from "@codemirror/theme-one-dark";
import katex from "katex";

// Highlighting for the language ids the server uses (codebattle.judge.languages).
// A language the bundle has no mode for is edited as plain text: adding a
// language to the judge must not break the editor.
const LANGUAGES = {
  python: python,
  pypy: python, // PyPy 3 runs the same Python source
  cpp: cpp,
  java: java,
};

function languageExtension(lang) {
  const make = LANGUAGES[lang];
  return make ? make() : [];
}

// Layout and fonts. The page can override the CSS variables
// --cb-editor-font-size and --cb-editor-min-height on any ancestor.
// 16px keeps iOS Safari from zooming in when the editor gets focus.
const baseTheme = EditorView.theme({
  "&": {
    fontSize: "var(--cb-editor-font-size, 16px)",
    border: "1px solid #8884",
    borderRadius: "4px",
  },
  "&.cm-focused": {
    outline: "2px solid #4a90e2",
    outlineOffset: "-1px",
  },
  ".cm-scroller": {
    fontFamily:
      'ui-monospace, SFMono-Regular, Menlo, Monaco, Consolas, "Liberation Mono", ' +
      '"DejaVu Sans Mono", "Roboto Mono", "Noto Sans Mono", "Courier New", monospace',
    lineHeight: "1.5",
    overflow: "auto",
  },
  ".cm-content, .cm-gutter": {
    minHeight: "var(--cb-editor-min-height, 320px)",
  },
});

// Phones: no auto-capitalisation, auto-correction or spell checking of code.
const mobileFriendly = EditorView.contentAttributes.of({
  autocapitalize: "off",
  autocorrect: "off",
  autocomplete: "off",
  spellcheck: "false",
  "aria-label": "Code editor",
});

function create(parent, options) {
  if (!parent || typeof parent.appendChild !== "function") {
    throw new Error("CodeBattleEditor.create: parentElement must be a DOM element");
  }
  const opts = options || {};
  let lang = opts.language || "python";
  const onSubmit = typeof opts.onSubmit === "function" ? opts.onSubmit : null;
  const onChange = typeof opts.onChange === "function" ? opts.onChange : null;

  const languageConf = new Compartment();
  const themeConf = new Compartment();

  // Ctrl-Enter and Cmd-Enter submit on every platform. Both are bound
  // explicitly: CodeMirror's "Mod" means Cmd only where navigator.platform
  // says Mac, which an iPhone or iPad with a keyboard does not.
  const submit = () => {
    if (onSubmit) onSubmit();
    return true;
  };
  const submitKeymap = Prec.highest(
    keymap.of([
      { key: "Ctrl-Enter", run: submit, preventDefault: true },
      { key: "Meta-Enter", run: submit, preventDefault: true },
    ]),
  );

  const extensions = [
    submitKeymap,
    basicSetup,
    keymap.of([indentWithTab]),
    indentUnit.of("    "),
    EditorState.tabSize.of(4),
    languageConf.of(languageExtension(lang)),
    themeConf.of(opts.dark ? oneDark : []),
    baseTheme,
    mobileFriendly,
  ];
  if (onChange) {
    extensions.push(
      EditorView.updateListener.of((update) => {
        if (update.docChanged) onChange(update.state.doc.toString());
      }),
    );
  }

  const view = new EditorView({
    parent: parent,
    state: EditorState.create({
      doc: typeof opts.doc === "string" ? opts.doc : "",
      extensions: extensions,
    }),
  });

  return {
    view: view,
    getValue() {
      return view.state.doc.toString();
    },
    // Replaces the whole document (fires onChange like any other edit).
    setValue(text) {
      const value = text == null ? "" : String(text);
      view.dispatch({
        changes: { from: 0, to: view.state.doc.length, insert: value },
        selection: { anchor: 0 },
        scrollIntoView: true,
      });
    },
    setLanguage(newLang) {
      const ext = languageExtension(newLang); // plain text for an unknown id
      lang = newLang;
      view.dispatch({ effects: languageConf.reconfigure(ext) });
    },
    getLanguage() {
      return lang;
    },
    setDark(dark) {
      view.dispatch({ effects: themeConf.reconfigure(dark ? oneDark : []) });
    },
    focus() {
      view.focus();
    },
    destroy() {
      view.destroy();
    },
  };
}

// Math in problem statements. The server renders Markdown with markdown-it-py
// and mdit_py_plugins' dollarmath plugin (0.7.0), which emits:
//   $a$ in a paragraph          -> <span class="math inline">a</span>   (inline)
//   $$a$$ in a paragraph        -> <div class="math inline">a</div>     (display; only
//                                   with double_inline=True)
//   $$a$$ on its own lines      -> <div class="math block">a</div>      (display)
//   $$a$$ (eq1)                 -> <div id="eq1" class="math block">
//                                    <a href="#eq1" class="mathlabel">¶</a> a </div>
// The tag tells the display mode (div = display, span = inline). The TeX is
// the element's text (HTML-escaped by the server, so textContent is the
// source), less any label anchor, which is kept in place.
const MATH_SELECTOR = "span.math.inline, div.math.inline, div.math.block";

function texOf(el) {
  let tex = "";
  el.childNodes.forEach((node) => {
    if (node.nodeType === 1 && node.classList.contains("mathlabel")) return;
    tex += node.textContent;
  });
  return tex.trim();
}

function renderMath(root) {
  const scope = root || document.body;
  if (!scope || typeof scope.querySelectorAll !== "function") return 0;
  const found = Array.from(scope.querySelectorAll(MATH_SELECTOR));
  if (scope.matches && scope.matches(MATH_SELECTOR)) found.unshift(scope);
  let count = 0;
  for (const el of found) {
    if (el.hasAttribute("data-math-rendered")) continue;
    const tex = texOf(el);
    const displayMode = el.tagName === "DIV";
    const labels = Array.from(el.children).filter((c) => c.classList.contains("mathlabel"));
    const target = document.createElement(displayMode ? "div" : "span");
    katex.render(tex, target, { displayMode: displayMode, throwOnError: false });
    el.replaceChildren(...labels, target);
    el.setAttribute("data-tex", tex);
    el.setAttribute("data-math-rendered", "");
    count += 1;
  }
  return count;
}

const api = {
  create: create,
  renderMath: renderMath,
  languages: Object.keys(LANGUAGES),
  katex: katex,
};

if (typeof window !== "undefined") {
  window.CodeBattleEditor = api;
}

export default api;
