using System.Text;

namespace Appliance.Tests.Hostile;

/// <summary>
/// HTTP/2 attacks in exact frames against the published binary (the landing page answers the site): a rapid-reset
/// flood (CVE-2023-44487), a header field over the 16 KiB limit, and a CONTINUATION flood (CVE-2024-27316's class).
/// Each attacker is cut off in the way the README names, and a well-behaved client is still served afterwards.
/// </summary>
public sealed class Http2AttackTests(Http2AttackTests.Box box) : IClassFixture<Http2AttackTests.Box>
{
    public sealed class Box : IAsyncLifetime
    {
        public ApplianceProcess Appliance { get; private set; } = null!;
        public async ValueTask InitializeAsync() => Appliance = await ApplianceProcess.StartAsync(null, ApplianceProcess.AdminPassword);
        public async ValueTask DisposeAsync() => await Appliance.DisposeAsync();
    }

    private int Port => box.Appliance.HttpsPort;

    private async Task AWellBehavedClientIsServedAsync()
    {
        var (status, _, _) = await RawTls.CurlAsync("--http2", $"https://127.0.0.1:{Port}/after-the-attack");
        Assert.Equal(200, status);
    }

    private static string Describe(List<(byte Type, byte Flags, int StreamId, byte[] Payload)> frames) =>
        string.Join(", ", frames.GroupBy(f => f.Type).Select(g => $"type {g.Key}: {g.Count()}"));

    [Fact]
    public async Task ARapidResetFloodIsCutOffWithAGoAway()
    {
        await using var attacker = await RawHttp2.ConnectAsync(Port);
        var block = RawHttp2.RequestBlock("/flood");
        var sent = 0;
        try
        {
            for (var stream = 1; stream < 2 * 20_000; stream += 2, sent++)
            {
                await attacker.WriteFrameAsync(RawHttp2.Headers, RawHttp2.EndStream | RawHttp2.EndHeaders, stream, block, flush: false);
                await attacker.RstStreamAsync(stream, RawHttp2.Cancel, flush: sent % 100 == 99);
            }
        }
        catch (IOException)
        {
            // the appliance closed the connection while the flood was still being written: cut off
        }
        var frames = await attacker.ReadUntilGoneAsync(TimeSpan.FromSeconds(10));
        // Seen here: GOAWAY (INTERNAL_ERROR) after some hundreds of reset streams, the rest never read.
        var goAway = Assert.Single(frames, f => f.Type == RawHttp2.GoAway);
        Assert.True(sent < 20_000, $"the whole flood of {sent} reset streams was taken; received {Describe(frames)}");
        Assert.NotEqual(0u, RawHttp2.GoAwayError(goAway.Payload));
        await AWellBehavedClientIsServedAsync();
    }

    [Fact]
    public async Task AHeaderFieldOver16KiBIsRefusedAndTheConnectionEnds()
    {
        await using var attacker = await RawHttp2.ConnectAsync(Port);
        var block = RawHttp2.RequestBlock("/big", ("x-big", new string('a', 20_000)));
        await attacker.WriteFrameAsync(RawHttp2.Headers, RawHttp2.EndStream, 1, block.AsMemory(0, 16_000));
        await attacker.WriteFrameAsync(RawHttp2.Continuation, RawHttp2.EndHeaders, 1, block.AsMemory(16_000));
        var frames = await attacker.ReadUntilGoneAsync(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(frames, f => f.Type == RawHttp2.Headers && f.StreamId == 1);
        var goAway = Assert.Single(frames, f => f.Type == RawHttp2.GoAway);
        Assert.Equal(0x9u, RawHttp2.GoAwayError(goAway.Payload)); // COMPRESSION_ERROR: the field is over the limit
        await AWellBehavedClientIsServedAsync();
    }

    [Fact]
    public async Task AContinuationFloodEndsTheConnectionLongBeforeItEnds()
    {
        await using var attacker = await RawHttp2.ConnectAsync(Port);
        await attacker.WriteFrameAsync(RawHttp2.Headers, RawHttp2.EndStream, 1, RawHttp2.RequestBlock("/continued"));
        // Each CONTINUATION adds a 1 KiB header field; 100,000 of them would be 100 MB of headers for one request.
        var field = RawHttp2.RequestBlock("/", ("x-more", new string('b', 1000)))[RawHttp2.RequestBlock("/").Length..];
        var sent = 0;
        try
        {
            for (; sent < 100_000; sent++)
                await attacker.WriteFrameAsync(RawHttp2.Continuation, 0, 1, field, flush: sent % 50 == 49);
        }
        catch (IOException)
        {
            // the appliance closed the connection: the flood stopped here
        }
        var frames = await attacker.ReadUntilGoneAsync(TimeSpan.FromSeconds(10));
        // Seen here: GOAWAY (PROTOCOL_ERROR) once the header block passed 32 KiB; the writes then failed after about a thousand.
        Assert.True(sent < 100_000, $"the whole flood of {sent} CONTINUATION frames was taken; received {Describe(frames)}");
        var goAway = Assert.Single(frames, f => f.Type == RawHttp2.GoAway);
        Assert.Equal(0x1u, RawHttp2.GoAwayError(goAway.Payload));
        Assert.DoesNotContain(frames, f => f.Type == RawHttp2.Headers && f.StreamId == 1);
        await AWellBehavedClientIsServedAsync();
    }
}
