#include "Timestamp.h"

using namespace Qt::StringLiterals;

namespace eventdesk::timestamp {

QString format(const QDateTime &when)
{
    return when.toUTC().toString(u"yyyy-MM-ddTHH:mm:ss.zzzZ"_s);
}

QString now()
{
    return format(QDateTime::currentDateTimeUtc());
}

QDateTime parse(QStringView text)
{
    QString s = text.trimmed().toString();
    if (s.size() > 10 && s.at(10) == u' ')
        s[10] = u'T';
    QDateTime dt = QDateTime::fromString(s, Qt::ISODateWithMs);
    if (!dt.isValid())
        dt = QDateTime::fromString(s, Qt::ISODate);
    if (dt.isValid() && dt.timeSpec() == Qt::LocalTime)
        dt.setTimeSpec(Qt::UTC);  // the engine writes UTC; a bare time is UTC
    return dt.toUTC();
}

} // namespace eventdesk::timestamp
