using System.Globalization;

namespace Appliance.Ui;

/// <summary>
/// The certificate expiry timeline of Status > Basics, laid out for an inline SVG (viewBox 1000 wide):
/// one month before now to a year ahead; expired certificates sit at the left edge, later ones at the right.
/// Labels go to the first lane where they do not overlap the previous label.
/// </summary>
public sealed record ExpiryTimeline(int Height, double NowX, IReadOnlyList<ExpiryTimeline.Tick> Ticks, IReadOnlyList<ExpiryTimeline.Mark> Marks)
{
    public const int Width = 1000;
    private const double Left = 30, Right = 970, AxisY = 34, LaneHeight = 22, CharWidth = 6.6;
    private static readonly TimeSpan Before = TimeSpan.FromDays(30), After = TimeSpan.FromDays(365);
    public const int SoonDays = 30;

    public sealed record Tick(string X, string Label);

    public sealed record Mark(string X, string Y, string LabelX, string LabelY, string Label, string Kind, string Anchor, string Title);

    public double AxisYValue => AxisY;

    public static string F(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);

    public static ExpiryTimeline Build(IEnumerable<(string Name, DateTimeOffset NotAfter)> certificates, DateTimeOffset now)
    {
        var start = now - Before;
        var end = now + After;
        double X(DateTimeOffset t) => Left + (Right - Left) * Math.Clamp((t - start) / (end - start), 0, 1);

        var ticks = new List<Tick>();
        var month = new DateTimeOffset(start.Year, start.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1);
        for (; month < end; month = month.AddMonths(1))
            ticks.Add(new Tick(F(X(month)), month.Month == 1 ? month.ToString("MMM yyyy", CultureInfo.InvariantCulture) : month.ToString("MMM", CultureInfo.InvariantCulture)));

        var laneEnds = new List<double>();
        var marks = new List<Mark>();
        foreach (var (name, notAfter) in certificates.OrderBy(c => c.NotAfter))
        {
            var x = X(notAfter);
            var days = (int)Math.Floor((notAfter - now).TotalDays);
            var kind = notAfter <= now ? "bad" : days < SoonDays ? "warn" : "ok";
            var label = notAfter > end ? $"{name} ({notAfter:yyyy-MM-dd}) →" : name;
            var width = label.Length * CharWidth;
            // Labels run right of the mark, or left of it near the right edge.
            var rightward = x + 8 + width <= Right + 25;
            var (from, to) = rightward ? (x, x + 8 + width) : (x - 8 - width, x);
            var lane = laneEnds.FindIndex(e => e + 6 < from);
            if (lane < 0) { lane = laneEnds.Count; laneEnds.Add(to); } else laneEnds[lane] = to;
            var y = AxisY + 22 + lane * LaneHeight;
            marks.Add(new Mark(F(x), F(y), F(rightward ? x + 8 : x - 8), F(y + 4), label, kind, rightward ? "start" : "end",
                $"{name}: expires {notAfter:yyyy-MM-dd HH:mm} UTC"));
        }
        var height = (int)(AxisY + 22 + Math.Max(1, laneEnds.Count) * LaneHeight + 6);
        return new ExpiryTimeline(height, X(now), ticks, marks);
    }
}
