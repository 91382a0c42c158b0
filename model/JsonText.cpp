#include "JsonText.h"

using namespace Qt::StringLiterals;

namespace eventdesk::jsontext {

namespace {

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// The \uXXXX escape at json[at] ("\u" included), or -1.
int escapeAt(QByteArrayView json, qsizetype at)
{
    if (at + 6 > json.size() || json[at] != '\\' || json[at + 1] != 'u')
        return -1;
    int v = 0;
    for (int i = 2; i < 6; ++i) {
        const int h = hexValue(json[at + i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

} // namespace

std::optional<QString> loneSurrogate(QByteArrayView json)
{
    bool inString = false;
    for (qsizetype i = 0; i < json.size(); ++i) {
        const char c = json[i];
        if (!inString) {
            inString = c == '"';
            continue;
        }
        if (c == '"') {
            inString = false;
        } else if (c == '\\') {
            const int v = escapeAt(json, i);
            if (v >= 0xD800 && v <= 0xDBFF) {
                const int low = escapeAt(json, i + 6);
                if (low < 0xDC00 || low > 0xDFFF)
                    return u"a lone surrogate \\u%1 at offset %2: text must be whole Unicode characters"_s.arg(v, 4, 16).arg(i);
                i += 11;
            } else if (v >= 0xDC00 && v <= 0xDFFF) {
                return u"a lone surrogate \\u%1 at offset %2: text must be whole Unicode characters"_s.arg(v, 4, 16).arg(i);
            } else {
                ++i;  // the escaped character, whatever it is
            }
        }
    }
    return std::nullopt;
}

} // namespace eventdesk::jsontext
