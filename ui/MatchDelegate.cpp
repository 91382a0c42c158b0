#include "MatchDelegate.h"

#include <QApplication>
#include <QPainter>
#include <QTextLayout>

namespace eventdesk {

void MatchDelegate::paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    if (m_needle.isEmpty()) {
        QStyledItemDelegate::paint(painter, option, index);
        return;
    }
    QStyleOptionViewItem opt = option;
    initStyleOption(&opt, index);
    const QString text = opt.text;
    opt.text.clear();
    QStyle *style = opt.widget ? opt.widget->style() : QApplication::style();
    style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, opt.widget);  // background, selection, focus

    const QRect area = style->subElementRect(QStyle::SE_ItemViewItemText, &opt, opt.widget).adjusted(3, 0, -3, 0);
    const QString shown = opt.fontMetrics.elidedText(text, Qt::ElideRight, area.width());
    QList<QTextLayout::FormatRange> ranges;
    for (qsizetype at = shown.indexOf(m_needle, 0, Qt::CaseInsensitive); at >= 0;
         at = shown.indexOf(m_needle, at + m_needle.size(), Qt::CaseInsensitive)) {
        QTextLayout::FormatRange r;
        r.start = int(at);
        r.length = int(m_needle.size());
        r.format.setBackground(QColor(0xff, 0xe0, 0x82));  // amber: dark text stays readable on it
        r.format.setForeground(QColor(0x20, 0x20, 0x20));
        ranges.append(r);
    }
    QTextLayout layout(shown, opt.font);
    layout.setFormats(ranges);
    layout.beginLayout();
    QTextLine line = layout.createLine();
    line.setLineWidth(area.width());
    layout.endLayout();
    painter->save();
    const bool selected = opt.state & QStyle::State_Selected;
    painter->setPen(opt.palette.color(selected ? QPalette::HighlightedText : QPalette::Text));
    if (!selected && opt.palette.brush(QPalette::Text) != index.data(Qt::ForegroundRole).value<QBrush>()
        && index.data(Qt::ForegroundRole).isValid())
        painter->setPen(index.data(Qt::ForegroundRole).value<QBrush>().color());
    const qreal y = area.top() + (area.height() - line.height()) / 2;
    layout.draw(painter, QPointF(area.left(), y));
    painter->restore();
}

} // namespace eventdesk
