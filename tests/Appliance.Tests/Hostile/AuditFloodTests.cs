using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Appliance.Tests.Hostile;

/// <summary>An anonymous flood of refused changes against the audit log, through the published binary.</summary>
public sealed class AuditFloodTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int FloodRequests = 20_000;
    private static readonly string[] Sources = ["127.0.0.1", "127.0.0.2", "127.0.0.3"];
    private static readonly string[] Paths =
    [
        "/appliance/api/v1/certificates/import", "/appliance/api/v1/users", "/appliance/api/v1/tokens", "/appliance/api/v1/certificate-requests",
        "/appliance/security/certificates/delete", "/appliance/users/admins", "/appliance/logout", "/appliance/login", "/appliance/email/test",
    ];

    private ApplianceProcess _appliance = null!;

    public async ValueTask InitializeAsync() => _appliance = await ApplianceProcess.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (_appliance is not null) await _appliance.DisposeAsync();
    }

    [Fact]
    public async Task TwentyThousandAnonymousPostsLeaveTheAdminsEntriesInPlaceAndAreCountedPerSourceAndMinute()
    {
        using var admin = await _appliance.LoginAsync();
        foreach (var name in new[] { "backup script", "monitoring", "deploy" })
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("tokens", new { name })).StatusCode);
        var before = Entries(await Json.ReadAsync(await admin.GetAsync("audit?limit=1000")));
        var adminEntries = before.Where(e => !e.GetProperty("anonymous").GetBoolean()).Select(Key).ToList();
        Assert.Equal(4, adminEntries.Count); // the login and three tokens
        var linesBefore = Lines(_appliance.Output);

        var clients = Sources.Select(s => _appliance.Client(IPAddress.Parse(s), maxConnections: 16)).ToArray();
        var statuses = new int[600];
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 48).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < FloodRequests)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, Paths[i % Paths.Length]) { Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json") };
                using var response = await clients[i % clients.Length].SendAsync(request);
                Interlocked.Increment(ref statuses[(int)response.StatusCode]);
            }
        }));
        var floodSeconds = clock.Elapsed.TotalSeconds;
        foreach (var client in clients) client.Dispose();
        Assert.True(statuses[200..300].Sum() == 0, "An anonymous POST succeeded.");
        Assert.Equal(FloodRequests, statuses.Sum());

        var after = await AllEntriesAsync(admin);
        foreach (var entry in adminEntries) Assert.Contains(entry, after.Select(Key));
        var anonymous = after.Where(e => e.GetProperty("anonymous").GetBoolean()).ToList();
        Assert.Equal(FloodRequests, anonymous.Sum(e => e.GetProperty("count").GetInt64()));
        // One row per source and minute: three sources over the minutes the flood touched.
        var minutes = (int)Math.Ceiling(floodSeconds / 60) + 1;
        Assert.InRange(anonymous.Count, Sources.Length, Sources.Length * minutes);
        Assert.Equal(Sources.Order(), anonymous.Select(e => e.GetProperty("address").GetString()).Distinct().Order());
        var row = anonymous[0];
        Assert.Equal($"{row.GetProperty("count").GetInt64()} refused anonymous requests from {row.GetProperty("address").GetString()} in this minute",
            row.GetProperty("summary").GetString());

        // The journal (the service's output) got a bounded number of lines, not one per request.
        var newLines = Lines(_appliance.Output) - linesBefore;
        output.WriteLine($"{FloodRequests} anonymous POSTs from {Sources.Length} addresses in {floodSeconds:0.0} s: {anonymous.Count} anonymous rows, {newLines} new log lines");
        Assert.True(newLines <= 10 * minutes + 20, $"The flood of {FloodRequests} refusals wrote {newLines} log lines in {floodSeconds:0} s:\n{_appliance.Output}");

        // The Audit log page says the count in words.
        var page = await admin.GetStringAsync($"https://127.0.0.1:{_appliance.HttpsPort}/appliance/audit");
        Assert.Contains($"refused anonymous requests from {Sources[1]} in this minute", page);
    }

    private static async Task<List<JsonElement>> AllEntriesAsync(HttpClient admin)
    {
        var entries = new List<JsonElement>();
        string query = "audit?limit=1000";
        while (true)
        {
            var page = await Json.ReadAsync(await admin.GetAsync(query));
            entries.AddRange(Entries(page));
            if (page.GetProperty("next").ValueKind == JsonValueKind.Null) return entries;
            query = $"audit?limit=1000&before={page.GetProperty("next").GetInt64()}";
        }
    }

    private static List<JsonElement> Entries(JsonElement page) => page.GetProperty("entries").EnumerateArray().ToList();

    private static string Key(JsonElement e) => $"{e.GetProperty("id").GetInt64()} {e.GetProperty("action").GetString()}";

    private static int Lines(string output) => output.Split('\n').Length;
}
