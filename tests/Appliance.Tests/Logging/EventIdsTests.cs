using System.Reflection;
using System.Text.RegularExpressions;

namespace Appliance.Tests.Logging;

/// <summary>The log event ids: one table, every id unique, every [LoggerMessage] in src/ taking its id from it, the README listing each.</summary>
public sealed partial class EventIdsTests
{
    private static readonly string Root = RepositoryRoot();

    [Fact]
    public void EveryLoggerMessageInTheSourceTreeTakesItsIdFromTheEventIdsTable()
    {
        var table = Table().Select(e => e.Name).ToHashSet();
        var found = 0;
        foreach (var file in SourceFiles())
        {
            var text = File.ReadAllText(file);
            foreach (Match attribute in LoggerMessageAttribute().Matches(text))
            {
                found++;
                var id = EventIdArgument().Match(attribute.Value);
                var where = $"{Path.GetRelativePath(Root, file)}: {attribute.Value}";
                Assert.True(id.Success, $"{where} has no EventId: give it one from EventIds.cs (an id of 0 cannot be filtered on).");
                Assert.True(id.Groups["name"].Success, $"{where} uses the literal id {id.Groups["value"].Value}: add a named constant to EventIds.cs and use it.");
                Assert.True(table.Contains(id.Groups["name"].Value), $"{where} names {id.Groups["name"].Value}, which EventIds.cs does not hold.");
            }
            foreach (Match other in EventIdOutsideTheTable().Matches(text))
                Assert.Fail($"{Path.GetRelativePath(Root, file)} sets an event id without the table: {other.Value}");
        }
        Assert.True(found >= 30, $"Only {found} [LoggerMessage] attributes found under {Root}/src: the source scan is looking in the wrong place.");
    }

    [Fact]
    public void EveryEventIdIsUnique()
    {
        var table = Table();

        var repeated = table.GroupBy(e => e.Id).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(e => e.Name))}").ToList();

        Assert.True(repeated.Count == 0, "Event ids used twice: " + string.Join("; ", repeated));
        Assert.True(table.Count >= 30, $"The table holds only {table.Count} ids.");
    }

    [Fact]
    public void EveryEventIdIsUsedByALoggerMessage()
    {
        var used = SourceFiles().SelectMany(f => EventIdArgument().Matches(File.ReadAllText(f)).Select(m => m.Groups["name"].Value)).ToHashSet();

        var unused = Table().Select(e => e.Name).Where(name => !used.Contains(name)).ToList();

        Assert.True(unused.Count == 0, "Ids in EventIds.cs no [LoggerMessage] uses (remove them, ids are not reused): " + string.Join(", ", unused));
    }

    [Fact]
    public void TheReadmeListsEveryEventIdWithItsName()
    {
        var readme = File.ReadAllText(Path.Combine(Root, "README.md"));
        var section = readme[readme.IndexOf("## Log event ids", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n## ", 3, StringComparison.Ordinal)];
        var rows = ReadmeRow().Matches(section).ToDictionary(m => m.Groups["name"].Value, m => int.Parse(m.Groups["id"].Value));

        Assert.Equal(Table().OrderBy(e => e.Name).Select(e => $"{e.Id} {e.Name}"), rows.OrderBy(r => r.Key).Select(r => $"{r.Value} {r.Key}"));
    }

    private static List<(string Name, int Id)> Table() =>
        typeof(EventIds).GetNestedTypes(BindingFlags.Public | BindingFlags.NonPublic)
            .SelectMany(room => room.GetFields(BindingFlags.Public | BindingFlags.Static)
                .Where(f => f.IsLiteral)
                .Select(f => ($"{room.Name}.{f.Name}", (int)f.GetRawConstantValue()!)))
            .ToList();

    private static IEnumerable<string> SourceFiles() =>
        Directory.EnumerateFiles(Path.Combine(Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal));

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Firmware.sln"))) directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException($"No Firmware.sln above {AppContext.BaseDirectory}: run the tests from the repository.");
    }

    [GeneratedRegex(@"\[LoggerMessage\((?:[^()]|\([^()]*\))*\)\]", RegexOptions.Singleline)]
    private static partial Regex LoggerMessageAttribute();

    [GeneratedRegex(@"EventId\s*=\s*(?:EventIds\.(?<name>\w+\.\w+)|(?<value>[^,)\s]+))")]
    private static partial Regex EventIdArgument();

    [GeneratedRegex(@"new\s+EventId\s*\(\s*\d+")]
    private static partial Regex EventIdOutsideTheTable();

    [GeneratedRegex(@"^\| (?<id>\d+) \| `(?<name>\w+\.\w+)` \|", RegexOptions.Multiline)]
    private static partial Regex ReadmeRow();
}
