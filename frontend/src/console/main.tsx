import { render } from "preact";
import "../common/base.css";
import "./console.css";
import { locale } from "../common/i18n";
import { App } from "./App";

document.documentElement.lang = locale();
render(<App />, document.getElementById("app")!);
