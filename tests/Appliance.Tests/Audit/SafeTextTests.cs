using Appliance.Audit;

namespace Appliance.Tests.Audit;

public sealed class SafeTextTests
{
    [Theory]
    [InlineData("plain text", "plain text")]
    [InlineData("a\u001b[31mred", "a\\x1b[31mred")]
    [InlineData("line\r\nAudit: forged", "line\\x0d\\x0aAudit: forged")]
    [InlineData("nul\0byte", "nul\\x00byte")]
    [InlineData("del\u007f c1\u009b", "del\\x7f c1\\x9b")]
    [InlineData("evil\u202egnp.exe", "evil\\u202egnp.exe")]
    [InlineData("isolate\u2066x\u2069 mark\u200f sep\u2028", "isolate\\u2066x\\u2069 mark\\u200f sep\\u2028")]
    [InlineData("tab\there", "tab\\x09here")]
    [InlineData("forged \\x1b escape", "forged \\x5cx1b escape")]
    [InlineData("\ufeffbom", "\\ufeffbom")]
    [InlineData("Grüße, 日本, 😀", "Grüße, 日本, 😀")]
    public void EscapesControlAndBidiCharactersAndKeepsPrintableText(string value, string expected) =>
        Assert.Equal(expected, SafeText.Escape(value));

    [Fact]
    public void CutsALongValueAtTheLimitWithAMarker()
    {
        var cut = SafeText.Escape(new string('a', 300), 256);
        Assert.Equal(256, cut.Length);
        Assert.EndsWith(SafeText.TruncatedMarker, cut);
        Assert.StartsWith(new string('a', 256 - SafeText.TruncatedMarker.Length), cut);
    }

    [Fact]
    public void AValueThatFitsOnceEscapedIsNotCut() =>
        Assert.Equal("\\x1b\\x1b", SafeText.Escape("\u001b\u001b", 20));

    [Fact]
    public void NeverCutsInsideAnEscapeOrASurrogatePair()
    {
        var escapes = SafeText.Escape(new string('\u001b', 100), 30);
        Assert.Equal("\\x1b\\x1b\\x1b\\x1b" + SafeText.TruncatedMarker, escapes);
        // 20 - 12 (marker) = 8 characters of room: four whole emoji (two UTF-16 units each).
        Assert.Equal(string.Concat(Enumerable.Repeat("😀", 4)) + SafeText.TruncatedMarker, SafeText.Escape(string.Concat(Enumerable.Repeat("😀", 50)), 20));
        Assert.Equal("a" + string.Concat(Enumerable.Repeat("😀", 3)) + SafeText.TruncatedMarker, SafeText.Escape("a" + string.Concat(Enumerable.Repeat("😀", 50)), 20));
    }
}
