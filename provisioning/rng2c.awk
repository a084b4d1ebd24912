# rng2c.awk - config.rng as the C strings cfg.c compiles in (provisioning/Makefile.am).
#
# Left out: the XML declaration, whole-line comments, indentation and the line
# breaks after a tag (a line that does not end in '>' keeps one space). Then
# each word of the list below becomes one byte, 1 for the first word, 2 for
# the next (the schema has no bytes below 32): cfg_schema_dict holds the words,
# NUL-separated, and cfg.c puts them back before libxml2 reads the schema.
# 3.2 kB of the armhf size budget (docs/cross-build.md). POSIX awk; the words
# are matched literally (index), never as regular expressions.
BEGIN {
	n = split("<optional><attribute name=\"|\"/></attribute></optional>|</attribute></optional>|" \
		  "\"><ref name=\"|\"><data type=\"string\"><param name=\"|</param></data>|" \
		  "<element name=\"|</element>|<define name=\"|</define>|<attribute name=\"|" \
		  "</attribute>|<optional>|</optional>|<value>|</value>|<choice>|</choice>|" \
		  " name=\"|\"/>", word, "|")
	for (k = 1; k < 32; k++)
		code[sprintf("%c", k)] = k
	text = ""
}
/^<\?xml/ { next }
/<!--/ { incomment = 1 }
incomment { if (index($0, "-->")) incomment = 0; next }
{
	sub(/^[ \t]+/, "")
	if ($0 == "")
		next
	text = text $0 (substr($0, length($0)) == ">" ? "" : " ")
}
function cstr(s,   out, i, c) {
	out = ""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c in code)
			out = out sprintf("\\%03o", code[c])
		else if (c == "\\" || c == "\"")
			out = out "\\" c
		else
			out = out c
	}
	return out
}
END {
	for (k = 1; k <= n; k++) {
		out = ""
		while ((i = index(text, word[k])) > 0) {
			out = out substr(text, 1, i - 1) sprintf("%c", k)
			text = substr(text, i + length(word[k]))
		}
		text = out text
	}
	print "/* Generated from config.rng by provisioning/rng2c.awk: do not edit. */"
	print "static const char cfg_schema_dict[] ="
	for (k = 1; k <= n; k++)
		printf "\t\"%s%s\"\n", cstr(word[k]), k < n ? "\\0" : ""
	print ";"
	print "static const char cfg_schema_rng[] ="
	for (i = 1; i <= length(text); i += 64)
		printf "\t\"%s\"\n", cstr(substr(text, i, 64))
	print ";"
}
