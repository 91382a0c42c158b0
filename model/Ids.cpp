#include "Ids.h"

#include "EventCodec.h"

#include <QUuid>

using namespace Qt::StringLiterals;

namespace eventdesk::ids {

namespace {

// EventDesk's own namespace for name-based ids (a fixed, random UUID).
const QUuid &nameSpace()
{
    static const QUuid ns(u"5f1d8c2a-3b47-4e9a-9c61-2d7b0e4a8f13"_s);
    return ns;
}

} // namespace

bool isUuid(const QString &text)
{
    // 8-4-4-4-12 hex digits, as the engine writes them (no braces).
    if (text.size() != 36)
        return false;
    for (int i = 0; i < 36; ++i) {
        const QChar c = text.at(i);
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != u'-')
                return false;
        } else if (!c.isDigit() && !(c >= u'a' && c <= u'f') && !(c >= u'A' && c <= u'F')) {
            return false;
        }
    }
    return true;
}

QString newUuid()
{
    return QUuid::createUuid().toString(QUuid::WithoutBraces);
}

QString characterUuid(const QString &worldId, const QString &name)
{
    return QUuid::createUuidV5(nameSpace(), QString(u"character\n"_s + worldId + u'\n' + name.trimmed())).toString(QUuid::WithoutBraces);
}

QString worldUuid(const QString &name)
{
    return QUuid::createUuidV5(nameSpace(), QString(u"world\n"_s + name.trimmed())).toString(QUuid::WithoutBraces);
}

QStringList nonUuidIds(const AppEvent &event)
{
    QStringList out;
    const QJsonObject fields = codec::fieldsToJson(event);
    for (auto it = fields.begin(); it != fields.end(); ++it) {
        if (!it.key().endsWith(u"_id"_s) || !it.value().isString())
            continue;
        const QString v = it.value().toString();
        if (!v.isEmpty() && !isUuid(v))
            out.append(it.key() + u'=' + v.left(40));
    }
    return out;
}

} // namespace eventdesk::ids
