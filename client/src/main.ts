// First: the signaling socket opens before the rest of the app is evaluated (boot.ts).
import './boot.ts';
import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';

const target = document.getElementById('app');
if (!target) throw new Error('#app missing');

export default mount(App, { target });
