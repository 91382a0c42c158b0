#include "DetailPane.h"
#include "EngineMessages.h"

#include "EventCodec.h"
#include "EventLogModel.h"

#include <QApplication>
#include <QClipboard>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QPushButton>
#include <QTextBrowser>
#include <QTextDocument>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace eventdesk {

DetailPane::DetailPane(QWidget *parent)
    : QWidget(parent)
    , m_title(new QLabel(this))
    , m_body(new QTextBrowser(this))
    , m_copy(new QPushButton(tr("Copy JSON"), this))
    , m_processed(new QPushButton(tr("Mark processed"), this))
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    m_title->setTextFormat(Qt::RichText);
    m_title->setWordWrap(true);
    layout->addWidget(m_title);
    layout->addWidget(m_body, 1);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_copy);
    buttons->addWidget(m_processed);
    buttons->addStretch();
    layout->addLayout(buttons);
    connect(m_copy, &QPushButton::clicked, this, [this] { QApplication::clipboard()->setText(QString::fromUtf8(m_raw)); });
    connect(m_processed, &QPushButton::clicked, this, [this] {
        if (m_id)
            Q_EMIT processedToggled(m_id, !m_isProcessed);
    });
    show(nullptr);
}

void DetailPane::setWritable(bool writable)
{
    m_writable = writable;
    m_processed->setToolTip(writable ? QString() : tr("The database is open read-only"));
    m_processed->setEnabled(writable && m_id != 0);
}

void DetailPane::show(const StoredEvent *e)
{
    m_copy->setEnabled(e != nullptr);
    m_processed->setEnabled(e != nullptr && m_writable);
    if (!e) {
        m_id = 0;
        m_title->setText(tr("<i>Select an event to see everything it says.</i>"));
        m_body->clear();
        return;
    }
    m_id = e->id;
    m_isProcessed = e->processed;
    m_processed->setText(e->processed ? tr("Mark unprocessed") : tr("Mark processed"));
    const QJsonDocument doc = QJsonDocument::fromJson(e->payload);
    m_raw = doc.isNull() ? e->payload : doc.toJson(QJsonDocument::Indented);

    QString html;
    if (e->event) {
        const QColor color = EventLogModel::categoryColor(e->event->category());
        m_title->setText(u"<span style='color:%1;font-size:large'>●</span> <b>%2</b> · #%3<br>%4"_s.arg(
            color.name(), e->eventType.toHtmlEscaped()).arg(e->id).arg((m_model ? m_model->displaySummary(*e->event) : e->event->summary()).toHtmlEscaped()));
        html += u"<table cellspacing='0' cellpadding='3'>"_s;
        const auto row = [&](const QString &k, const QString &v, bool extra = false) {
            html += u"<tr><td style='color:#666'>%1%2</td><td><b>%3</b></td></tr>"_s.arg(
                k.toHtmlEscaped(), extra ? u" <i>(new)</i>"_s : QString(), v.toHtmlEscaped());
        };
        row(tr("created"), e->createdAt.isValid() ? e->createdAt.toLocalTime().toString(Qt::ISODateWithMs) : e->createdAtText);
        row(tr("processed"), e->processed ? tr("yes, %1").arg(e->processedAt.toLocalTime().toString(Qt::ISODate)) : tr("no"));
        const QJsonObject fields = codec::fieldsToJson(*e->event);
        for (const FieldSpec &f : catalog::spec(e->event->kind()).fields) {
            const QJsonValue v = fields.value(f.name);
            QString text = v.isUndefined() ? u"—"_s
                : v.isArray() ? QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact))
                : v.isBool() ? (v.toBool() ? u"true"_s : u"false"_s)
                : v.isDouble() ? QString::number(v.toInteger())
                : v.toString();
            row(f.name, text);
        }
        const QJsonObject &extra = e->event->extraFields();
        for (auto it = extra.begin(); it != extra.end(); ++it)
            row(it.key(), it.value().isString() ? it.value().toString()
                                                : QString::fromUtf8(QJsonDocument(QJsonArray{it.value()}).toJson(QJsonDocument::Compact)),
                true);
        html += u"</table>"_s;
    } else if (e->isEngineMessage()) {
        // A message of today's engine, as recorded: its fields in a table, then the text as it came.
        const QColor color = EventLogModel::engineColor(*e);
        const QString area = engine::areaOf(e->engineTag) ? engine::areaName(*engine::areaOf(e->engineTag))
                                                           : tr("a newer engine's message");
        m_title->setText(u"<span style='color:%1;font-size:large'>○</span> <b>%2</b> · #%3 · %4<br>%5"_s.arg(
            color.name(), e->eventType.toHtmlEscaped()).arg(e->id).arg(area.toHtmlEscaped(),
            (m_model ? m_model->rowSummary(*e) : engine::rowSummary(*e)).toHtmlEscaped()));
        html += u"<table cellspacing='0' cellpadding='3'>"_s;
        const auto row = [&](const QString &k, const QString &v) {
            html += u"<tr><td style='color:#666'>%1</td><td><b>%2</b></td></tr>"_s.arg(k.toHtmlEscaped(), v.toHtmlEscaped());
        };
        row(tr("received"), e->createdAt.isValid() ? e->createdAt.toLocalTime().toString(Qt::ISODateWithMs) : e->createdAtText);
        row(tr("world"), m_model ? m_model->displayName(e->worldId()) : e->worldId());
        const QJsonObject fields = doc.object();
        for (auto it = fields.begin(); it != fields.end(); ++it) {
            if (it.key() == u"type"_s)
                continue;
            const QJsonValue v = it.value();
            QString text = v.isNull() ? u"—"_s
                : v.isBool() ? (v.toBool() ? u"true"_s : u"false"_s)
                : v.isDouble() ? QString::number(v.toDouble())
                : v.isString() ? v.toString()
                : QString::fromUtf8(QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact)).mid(1).chopped(1);
            if (text.size() > 400)
                text = text.left(399) + u'…';
            // An id the DM named reads as the name, the id beside it.
            const QString name = m_model && it.key().endsWith(u"_id"_s) ? m_model->displayName(text) : text;
            row(it.key(), name != text ? u"%1 (%2)"_s.arg(name, text) : text);
        }
        html += u"</table>"_s;
    } else {
        m_title->setText(u"<span style='color:#c0392b;font-size:large'>⚠</span> <b>%1</b> · #%2<br>%3"_s.arg(
            e->eventType.toHtmlEscaped()).arg(e->id).arg(tr("This row does not decode.")));
        html += u"<p style='color:#c0392b'>%1</p>"_s.arg(e->decodeError.toHtmlEscaped());
    }
    html += u"<h4>%1</h4><pre>%2</pre>"_s.arg(tr("Payload"), QString::fromUtf8(m_raw).toHtmlEscaped());
    m_body->setHtml(html);
    markMatches();
}

void DetailPane::setHighlight(const QString &needle)
{
    m_needle = needle;
    markMatches();
}

void DetailPane::markMatches()
{
    QList<QTextEdit::ExtraSelection> marks;
    if (!m_needle.isEmpty()) {
        QTextDocument *doc = m_body->document();
        QTextCharFormat amber;
        amber.setBackground(QColor(0xff, 0xe0, 0x82));
        amber.setForeground(QColor(0x20, 0x20, 0x20));
        for (QTextCursor c = doc->find(m_needle); !c.isNull() && marks.size() < 500; c = doc->find(m_needle, c))
            marks.append({c, amber});
    }
    m_body->setExtraSelections(marks);
}

} // namespace eventdesk
