"""Syntax-checks Swift and Kotlin sources with tree-sitter where no compiler can run here (no
Swift compiler on Linux; no Android SDK for the app's Compose code): a parse, not a type check,
and reported as such. uniffi's `#if swift(>=5.8) @_documentation(...) #endif` blocks trip the
Swift grammar; they are blanked first, line for line, so error positions stay true. One more
construct that grammar does not know (a closure whose body is the empty tuple, `{ () }`) is
written `{ }` before parsing. Usage: syntax_check.py FILE... (by extension: .swift, .kt, .kts)"""

import re
import sys

import tree_sitter
import tree_sitter_kotlin
import tree_sitter_swift

DOC_BLOCK = re.compile(r"#if swift\(>=5\.8\)\n[ \t]*@_documentation\([^)]*\)\n#endif")


def blank(match):
    return "\n" * match.group(0).count("\n")


def swift_source(text):
    return DOC_BLOCK.sub(blank, text).replace("{ () }", "{ }")


GRAMMARS = {
    ".swift": (tree_sitter_swift.language(), swift_source),
    ".kt": (tree_sitter_kotlin.language(), lambda text: text),
    ".kts": (tree_sitter_kotlin.language(), lambda text: text),
}


def errors(tree):
    out, stack = [], [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            out.append(node.start_point[0] + 1)
        stack.extend(node.children)
    return sorted(out)


def main(paths):
    parsers = {ext: (tree_sitter.Parser(tree_sitter.Language(lang)), prep) for ext, (lang, prep) in GRAMMARS.items()}
    bad = 0
    for path in paths:
        ext = "." + path.rsplit(".", 1)[-1]
        parser, prep = parsers[ext]
        with open(path, encoding="utf-8") as f:
            source = prep(f.read())
        lines = errors(parser.parse(source.encode("utf-8")))
        if lines:
            bad += 1
            print(f"{path}: syntax errors at lines {lines[:10]}")
        else:
            print(f"{path}: syntax-checked")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
