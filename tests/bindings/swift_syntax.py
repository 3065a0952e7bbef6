"""Syntax-checks Swift sources with tree-sitter-swift (there is no Swift compiler on Linux
here): a parse, not a type check, and reported as such. uniffi's
`#if swift(>=5.8) @_documentation(...) #endif` blocks trip the grammar; they are blanked
first, line for line, so error positions stay true. One more construct the grammar does not
know (a closure whose body is the empty tuple, `{ () }`) is written `{ }` before parsing.
Usage: swift_syntax.py FILE..."""

import re
import sys

import tree_sitter
import tree_sitter_swift

DOC_BLOCK = re.compile(r"#if swift\(>=5\.8\)\n[ \t]*@_documentation\([^)]*\)\n#endif")


def blank(match):
    return "\n" * match.group(0).count("\n")


def errors(tree):
    out, stack = [], [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            out.append(node.start_point[0] + 1)
        stack.extend(node.children)
    return sorted(out)


def main(paths):
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_swift.language()))
    bad = 0
    for path in paths:
        with open(path, encoding="utf-8") as f:
            source = DOC_BLOCK.sub(blank, f.read()).replace("{ () }", "{ }")
        lines = errors(parser.parse(source.encode("utf-8")))
        if lines:
            bad += 1
            print(f"{path}: syntax errors at lines {lines[:10]}")
        else:
            print(f"{path}: syntax-checked")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
