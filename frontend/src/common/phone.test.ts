import { describe, expect, it } from "vitest";
import { phoneText, telHref } from "./phone";

describe("phoneText", () => {
  it("groups Chinese numbers the way they are read aloud", () => {
    expect(phoneText("+8613812345678")).toBe("138 1234 5678");
    expect(phoneText("+864008123456")).toBe("400 812 3456");
    expect(phoneText("+8675512345678")).toBe("0755 1234 5678");
    expect(phoneText("+861012345678")).toBe("010 1234 5678");
    expect(phoneText("+85221234567")).toBe("+85221234567");
  });
  it("links to the number as dialled", () => {
    expect(telHref("+864008123456")).toBe("tel:+864008123456");
  });
});
